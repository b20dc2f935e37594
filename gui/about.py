"""The About box: the app's version and the recipe of the loaded model(s)."""

from __future__ import annotations

import html
from importlib import metadata

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from composer.music.keys import key_distribution_text


def app_version() -> str:
    try:
        return metadata.version("composer")
    except metadata.PackageNotFoundError:
        return "development copy"


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def recipe_html(name: str, checkpoint: dict) -> str:
    """A model's recipe (training settings, data) and scores as an HTML fragment."""
    parts = [f"<h3>{html.escape(name)}</h3>"]
    metrics = checkpoint.get("metrics") or {}
    if metrics:
        rows = []
        for split, values in metrics.items():
            if isinstance(values, dict):
                text = ", ".join(f"{k} {_format_value(v)}" for k, v in values.items() if k != "tokens")
            else:
                text = _format_value(values)
            rows.append(f"<tr><td><b>{html.escape(str(split))}</b></td><td>{html.escape(text)}</td></tr>")
        parts.append("<p>Scores (loss in nats per prediction; lower is better):</p><table>" + "".join(rows) + "</table>")
    epoch = checkpoint.get("epoch")
    if epoch is not None:
        parts.append(f"<p>Epochs trained: {epoch}</p>")
    model_config = checkpoint.get("model_config") or {}
    if model_config:
        text = ", ".join(f"{k} {_format_value(v)}" for k, v in model_config.items() if k != "key_counts")
        parts.append(f"<p><b>Network:</b> {html.escape(text)}</p>")
        keys = key_distribution_text(model_config.get("key_counts"))
        if keys:
            parts.append(f"<p><b>Keys of the training pieces</b> (a melody from nothing draws its key from these): "
                         f"{html.escape(keys)}</p>")
    recipe = checkpoint.get("recipe") or {}
    config = recipe.get("config") if isinstance(recipe, dict) else None
    if isinstance(config, dict):
        text = ", ".join(f"{k} {_format_value(v)}" for k, v in config.items())
        parts.append(f"<p><b>Training recipe:</b> {html.escape(text)}</p>")
    if isinstance(recipe, dict):
        facts = {k: v for k, v in recipe.items() if k != "config" and not isinstance(v, (dict, list))}
        if facts:
            text = ", ".join(f"{k} {_format_value(v)}" for k, v in facts.items())
            parts.append(f"<p><b>Data:</b> {html.escape(text)}</p>")
    return "".join(parts)


def about_html(models: list[tuple[str, dict]]) -> str:
    """The whole About text: version, what the app does, and each loaded model's recipe."""
    parts = [f"<h2>Composer {html.escape(app_version())}</h2>",
             "<p>Writes music ideas with a stacked LSTM: generate melodies, harmonize them in four parts, "
             "edit them in the piano roll, and drag them into your DAW.</p>"]
    if not models:
        parts.append("<p>No model is loaded.</p>")
    for name, checkpoint in models:
        parts.append(recipe_html(name, checkpoint))
    return "".join(parts)


class AboutDialog(QDialog):
    """Shows :func:`about_html` in a scrollable box."""

    def __init__(self, models: list[tuple[str, dict]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Composer")
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setHtml(about_html(models))
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
