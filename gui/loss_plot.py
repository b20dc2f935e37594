"""A live learning-curve plot for the training dialog (a custom-painted widget, no plotting library).

Use::

    plot = LossPlot()
    plot.add_step(epoch=1, batch=10, batches=40, loss=3.2)        # from composer.melody.train "step" events
    plot.add_epoch(epoch=1, train_loss=3.0, valid_loss=3.1)       # from "epoch" events
    plot.load_history(checkpoint["history"])                      # the curve so far, when resuming
    plot.clear()

The x axis is in epochs (a step at batch b of B in epoch e sits at e - 1 + b / B). The running training
loss of the steps is a thin line; the per-epoch training and validation losses are lines with dots. The
corner shows the latest perplexities (e ** loss, in tokens).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

STEP_COLOR = QColor(120, 170, 230)
TRAIN_COLOR = QColor(30, 100, 200)
VALID_COLOR = QColor(230, 120, 20)
AXIS_COLOR = QColor(110, 110, 110)
MARGINS = (52, 28, 16, 34)  # left, top, right, bottom, in pixels


def perplexity(loss: float) -> float:
    """e ** loss (capped, as composer.melody.train does, so a diverged loss does not overflow)."""
    return math.exp(min(loss, 50.0))


class LossPlot(QWidget):
    """Training and validation loss per epoch, and training loss per step, painted live."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self._steps: list[tuple[float, float]] = []
        self._train: list[tuple[float, float]] = []
        self._valid: list[tuple[float, float]] = []
        self.setToolTip("Loss (nats per token) by epoch: lower is better")

    # -- data ------------------------------------------------------------------------------------
    @property
    def step_points(self) -> list[tuple[float, float]]:
        """(x in epochs, running training loss) of every step event so far."""
        return list(self._steps)

    @property
    def train_points(self) -> list[tuple[float, float]]:
        """(epoch, training loss) per finished epoch."""
        return list(self._train)

    @property
    def valid_points(self) -> list[tuple[float, float]]:
        """(epoch, validation loss) per finished epoch."""
        return list(self._valid)

    def clear(self) -> None:
        self._steps.clear()
        self._train.clear()
        self._valid.clear()
        self.update()

    def add_step(self, epoch: int, batch: int, batches: int, loss: float) -> None:
        """One "step" event: the running training loss at ``batch`` of ``batches`` in ``epoch`` (from 1)."""
        if math.isfinite(loss):
            self._steps.append((epoch - 1 + batch / max(1, batches), loss))
            self.update()

    def add_epoch(self, epoch: int, train_loss: float, valid_loss: float) -> None:
        """One "epoch" event: the epoch's training and validation losses."""
        if math.isfinite(train_loss):
            self._train.append((float(epoch), train_loss))
        if math.isfinite(valid_loss):
            self._valid.append((float(epoch), valid_loss))
        self.update()

    def load_history(self, history: list[dict]) -> None:
        """Show the epochs of a saved run (a model file's ``history``), replacing what is shown."""
        self.clear()
        for row in history:
            self.add_epoch(row["epoch"], row["train_loss"], row["valid_loss"])

    def readout(self) -> str:
        """The latest perplexities, e.g. ``"train ppl 21.05   valid ppl 42.29"`` (empty before any data)."""
        parts = []
        if self._train:
            parts.append(f"train ppl {perplexity(self._train[-1][1]):.2f}")
        elif self._steps:
            parts.append(f"train ppl {perplexity(self._steps[-1][1]):.2f}")
        if self._valid:
            best = min(loss for _, loss in self._valid)
            parts.append(f"valid ppl {perplexity(self._valid[-1][1]):.2f} (best {perplexity(best):.2f})")
        return "   ".join(parts)

    # -- painting ----------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(520, 260)

    def _ranges(self) -> tuple[float, float, float, float]:
        points = self._steps + self._train + self._valid
        x_max = max([1.0] + [x for x, _ in points])
        losses = [y for _, y in points] or [0.0, 1.0]
        low, high = min(losses), max(losses)
        pad = max(0.05, (high - low) * 0.08)
        return 0.0, x_max, max(0.0, low - pad), high + pad

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        left, top, right, bottom = MARGINS
        area = QRectF(left, top, max(1, self.width() - left - right), max(1, self.height() - top - bottom))
        x0, x1, y0, y1 = self._ranges()

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(area.left() + (x - x0) / (x1 - x0) * area.width(),
                           area.bottom() - (y - y0) / (y1 - y0) * area.height())

        self._paint_axes(painter, area, (x0, x1, y0, y1))
        self._paint_line(painter, [to_screen(x, y) for x, y in self._steps], STEP_COLOR, 1.0, dots=False)
        self._paint_line(painter, [to_screen(x, y) for x, y in self._train], TRAIN_COLOR, 2.0, dots=True)
        self._paint_line(painter, [to_screen(x, y) for x, y in self._valid], VALID_COLOR, 2.0, dots=True)
        self._paint_legend(painter, area)
        painter.end()

    def _paint_axes(self, painter: QPainter, area: QRectF, ranges: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = ranges
        painter.setPen(QPen(AXIS_COLOR, 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        font = QFont(painter.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        for i in range(5):
            value = y0 + (y1 - y0) * i / 4
            y = area.bottom() - area.height() * i / 4
            painter.drawLine(QPointF(area.left() - 4, y), QPointF(area.left(), y))
            painter.drawText(QRectF(0, y - 8, area.left() - 6, 16), Qt.AlignmentFlag.AlignRight
                             | Qt.AlignmentFlag.AlignVCenter, f"{value:.2f}")
        step = max(1, math.ceil(x1 / 10))
        for epoch in range(0, int(math.floor(x1)) + 1, step):
            x = area.left() + (epoch - x0) / (x1 - x0) * area.width()
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 4))
            painter.drawText(QRectF(x - 20, area.bottom() + 5, 40, 14), Qt.AlignmentFlag.AlignHCenter, str(epoch))
        painter.drawText(QRectF(area.left(), area.bottom() + 18, area.width(), 14), Qt.AlignmentFlag.AlignHCenter,
                         "epoch")

    @staticmethod
    def _paint_line(painter: QPainter, points: list[QPointF], color: QColor, width: float, dots: bool) -> None:
        if not points:
            return
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.drawPath(path)
        if dots:
            painter.setBrush(color)
            for point in points:
                painter.drawEllipse(point, 3.0, 3.0)

    def _paint_legend(self, painter: QPainter, area: QRectF) -> None:
        x = area.left() + 6
        for label, color in (("steps", STEP_COLOR), ("train", TRAIN_COLOR), ("valid", VALID_COLOR)):
            painter.setPen(QPen(color, 3))
            painter.drawLine(QPointF(x, 12), QPointF(x + 14, 12))
            painter.setPen(self.palette().text().color())
            painter.drawText(QPointF(x + 18, 16), label)
            x += 70
        painter.drawText(QRectF(x, 2, max(0.0, self.width() - x - 8), 20),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.readout())
