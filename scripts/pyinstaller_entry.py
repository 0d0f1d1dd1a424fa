"""Entry point frozen by PyInstaller into the self-contained ``backtestr`` bundle."""

from backtestr.cli import main

if __name__ == "__main__":
    main()
