"""Application services around the core: paths, settings, version, updater, crash reports."""
