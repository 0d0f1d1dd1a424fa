"""Plots and the self-contained HTML report of a backtest.

matplotlib draws off-screen (Agg canvas, no pyplot), so this works on servers without a display
and in parallel workers. The HTML report needs no network: its chart is embedded as base64 PNG.
"""

from backtestr.report._bars import plot_bars
from backtestr.report._html import render_html_report, write_html_report
from backtestr.report._plots import plot_equity, save_figure
from backtestr.report._robustness import plot_deflated_sharpe, plot_monte_carlo, plot_pbo
from backtestr.report._saved import render_saved_run_report
from backtestr.report._sweeps import plot_parameter_stability, plot_sweep_heatmap
from backtestr.report._walkforward import plot_walk_forward

__all__ = [
    "plot_bars",
    "plot_deflated_sharpe",
    "plot_equity",
    "plot_monte_carlo",
    "plot_parameter_stability",
    "plot_pbo",
    "plot_sweep_heatmap",
    "plot_walk_forward",
    "render_html_report",
    "render_saved_run_report",
    "save_figure",
    "write_html_report",
]
