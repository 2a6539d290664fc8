"""A batch's numbers: rates with Wilson intervals, paired tests, annotator agreement.

Everything is computed by `core/analysis` on the notebook queue; this view
only lays it out: a heat map of the chosen label by topic and model, bars
with intervals by language, the same numbers as a table, McNemar between
models and between English and Chinese, and Cohen's kappa between
annotators. It says what it counts (human labels over flags) and how many
answers each source gave, since a rate from flags alone is a detector's
opinion, not a person's. For a flag that people's labels can check, it
shows the flag's precision and recall on the answers people checked and
the rate corrected for the flag's errors (`core/analysis/correction.py`),
or why no corrected figure can be given; the tables are the reports' own
(`core/export/report.py`), so the window and an export say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QFontInfo, QGuiApplication
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.analysis.agreement import AUTOMATIC_FLAGS, Agreement
from ...core.analysis.charts import heat_map_svg, rate_bars_svg
from ...core.analysis.correction import METHOD
from ...core.analysis.flag_names import FLAG_NAMES, HARD_REFUSAL
from ...core.analysis.summary import Rate, Summary, known_names, summarise
from ...core.export.collect import Selection, collect
from ...core.export.report import (
    CHECK_COLUMNS,
    CORRECTED_COLUMNS,
    agreements,
    check_rows,
    corrected_rows,
    correction_lines,
    follow_up_test_text,
    format_kappa,
    language_test_text,
    model_test_text,
)
from ..shared.fonts import READABLE_POINTS
from ..shared.tasks import TaskQueue
from ..shared.text_label import text_label

if TYPE_CHECKING:
    from ...core.workspace import Workspace

CHART_WIDTH = 720  # the charts' own units; the view scales them with the type size
TABLE_HEADERS = ("Model", "By", "Group", "k / n", "Rate", "95% interval", "From labels", "From flags")


@dataclass(frozen=True)
class SummaryData:
    batch_id: int
    summary: Summary
    names: list[str]  # every label or flag the picker offers
    titles: dict[str, str]  # label name -> its title
    agreement: list[Agreement]


def read_summary(workspace: Workspace, batch_id: int, label: str) -> SummaryData:
    """All the view shows (notebook queue only)."""
    notebook = workspace.notebook
    return SummaryData(
        batch_id,
        summarise(notebook, [batch_id], label),
        known_names(notebook),
        {label.name: label.title for label in notebook.labels.all()},
        agreements(collect(notebook, Selection(batch_id=batch_id))),  # the same kappa the reports give
    )


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def interval_text(rate: Rate) -> str:
    low, high = rate.interval
    return f"{100 * low:.0f}–{100 * high:.0f}%" if rate.n else "—"


def counting_text(summary: Summary) -> str:
    human = sum(r.human for r in summary.overall)
    auto = sum(r.auto for r in summary.overall)
    return f"Counted: {summary.counting}. {human + auto} answers: {human} from human labels, {auto} from automatic flags."


def correction_text(summary: Summary, title: str) -> str:
    """The sentence above the correction's tables, or instead of them when there is nothing to show."""
    correction = summary.correction
    if correction is None:
        if summary.label in FLAG_NAMES:
            return (
                f"No label is named {summary.label}, so people's labels can't check this flag: "
                "its rate above is uncorrected, the detector's errors included."
            )
        return f"{title} is not an automatic flag, so there is no detector error to correct: its rate counts people's labels."
    if not correction.checked:
        return (
            "No answer of this batch was checked by a person yet (labels by machine judges are not checks), so the flag's "
            "precision and recall can't be measured and its rate above is uncorrected. Label some answers, in order or at "
            "random rather than by their flags, to correct it."
        )
    return (
        f"How well the {correction.flag} flag did on the {correction.checked} answers people checked, and its rate corrected "
        f"for its errors. Method: {METHOD}; docs/rates.md."
    )


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return table


class SummaryView(QWidget):
    summaryShown = Signal(int)  # a batch's summary is on screen

    def __init__(self, tasks: TaskQueue, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._workspace = workspace
        self.data: SummaryData | None = None
        self._batch_id: int | None = None

        self.label = QComboBox()
        self.label.setToolTip("Count this label (or flag) in every answer")
        self.label.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.label.activated.connect(lambda _index: self._reload())
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Count"))
        pick.addWidget(self.label)
        pick.addStretch(1)
        self.counting = text_label(role="muted")
        self.heat_map = QSvgWidget()
        self.bars = QSvgWidget()
        for chart in (self.heat_map, self.bars):
            chart.renderer().setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self.table = _table(TABLE_HEADERS)
        self.correction_note = text_label(role="muted")
        self.correction_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checks = _table(CHECK_COLUMNS)
        self.corrected = _table(CORRECTED_COLUMNS)
        self.correction_lines = text_label(role="muted")
        self.tests = text_label()
        self.tests.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.agreement = _table(("Label", "Annotators", "Answers both labelled", "Agreed", "Cohen's kappa"))
        self.agreement_note = text_label(role="muted")

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(pick)
        layout.addWidget(self.counting)
        layout.addWidget(self.heat_map, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.bars, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(text_label("Rates with Wilson 95% intervals (uncorrected)", role="heading", wrap=False))
        layout.addWidget(self.table)
        layout.addWidget(text_label("Corrected for the flag's errors", role="heading", wrap=False))
        layout.addWidget(self.correction_note)
        layout.addWidget(self.checks)
        layout.addWidget(self.corrected)
        layout.addWidget(self.correction_lines)
        layout.addWidget(text_label("Paired tests", role="heading", wrap=False))
        layout.addWidget(self.tests)
        layout.addWidget(text_label("Agreement between annotators", role="heading", wrap=False))
        layout.addWidget(self.agreement_note)
        layout.addWidget(self.agreement)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    @property
    def chosen_label(self) -> str:
        return self.label.currentData() or HARD_REFUSAL

    def show_batch(self, batch_id: int) -> None:
        """Read and show a batch's summary for the chosen label."""
        self._batch_id = batch_id
        self._reload()

    def choose_label(self, name: str) -> None:
        index = self.label.findData(name)
        if index >= 0:
            self.label.setCurrentIndex(index)
            self._reload()

    def _reload(self) -> None:
        batch_id, label, workspace = self._batch_id, self.chosen_label, self._workspace
        if batch_id is None:
            return
        self._tasks.submit(lambda: read_summary(workspace, batch_id, label), self._show)

    def _show(self, data: SummaryData) -> None:
        if data.batch_id != self._batch_id or data.summary.label != self.chosen_label:
            return  # another batch or label was chosen meanwhile
        self.data = data
        self._fill_picker(data)
        summary = data.summary
        title = data.titles.get(summary.label, summary.label)
        self.counting.setText(counting_text(summary))
        dark = QGuiApplication.palette().window().color().lightness() < 128
        self._set_chart(self.heat_map, heat_map_svg(summary.by_topic, title=f"{title}: rate by topic and model", dark=dark, width=CHART_WIDTH))
        self._set_chart(self.bars, rate_bars_svg(summary.by_language, title=f"{title}: rate by language, with 95% intervals", dark=dark, width=CHART_WIDTH))
        self._fill_rates(summary)
        self._fill_correction(summary, title)
        tests = [model_test_text(t, summary.models) for t in summary.model_tests]
        tests += [language_test_text(t, summary.models[key]) for key, t in summary.language_tests.items()]
        tests += [follow_up_test_text(t, summary.models[key]) for key, turns in summary.follow_up_tests.items() for t in turns]
        self.tests.setText("\n".join(tests) or "No answers counted yet.")
        self._fill_agreement(data)
        self.summaryShown.emit(data.batch_id)

    def _fill_picker(self, data: SummaryData) -> None:
        names = [self.label.itemData(i) for i in range(self.label.count())]
        if names == data.names:
            return
        self.label.blockSignals(True)
        self.label.clear()
        for name in data.names:
            title = data.titles.get(name)
            self.label.addItem(f"{title} ({name})" if title and title != name else name, name)
        self.label.setCurrentIndex(max(0, self.label.findData(data.summary.label)))
        self.label.blockSignals(False)

    def _set_chart(self, chart: QSvgWidget, svg: str) -> None:
        """Load the SVG and size it like the text around it: the charts grow with the type size."""
        chart.load(QByteArray(svg.encode("utf-8")))
        scale = max(1.0, QFontInfo(self.font()).pointSizeF() / READABLE_POINTS)
        size = chart.renderer().defaultSize()
        chart.setFixedSize(QSize(round(size.width() * scale), round(size.height() * scale)))

    def _fill_rates(self, summary: Summary) -> None:
        rows = [("all", r) for r in summary.overall] + [("topic", r) for r in summary.by_topic] + [("language", r) for r in summary.by_language]
        rows += [("follow-up", r) for r in summary.by_follow_up]
        self.table.setRowCount(len(rows))
        for row, (by, rate) in enumerate(rows):
            cells = (
                _item(rate.model_name),
                _item(by),
                _item(rate.group),
                _item(f"{rate.k}/{rate.n}", True),
                _item(percent(rate.rate), True),
                _item(interval_text(rate), True),
                _item(str(rate.human), True),
                _item(str(rate.auto), True),
            )
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self._fit(self.table)

    def _fill_correction(self, summary: Summary, title: str) -> None:
        self.correction_note.setText(correction_text(summary, title))
        correction = summary.correction
        shown = correction is not None and correction.checked > 0
        for widget in (self.checks, self.corrected, self.correction_lines):
            widget.setVisible(shown)
        if not shown:
            return
        assert correction is not None
        for table, rows in ((self.checks, check_rows(correction)), (self.corrected, corrected_rows(correction))):
            table.setRowCount(len(rows))
            for row, cells in enumerate(rows):
                for column, text in enumerate(cells):
                    numbers = column >= 2 and column < len(cells) - 1 if table is self.corrected else column >= 1
                    item = _item(text, align_right=numbers)
                    item.setToolTip(text)
                    table.setItem(row, column, item)
        self._fit(self.checks)
        self._fit(self.corrected)
        self.correction_lines.setText("\n".join(correction_lines(correction)))
        self.correction_lines.setVisible(bool(self.correction_lines.text()))

    def _fill_agreement(self, data: SummaryData) -> None:
        rows = data.agreement
        self.agreement_note.setText(
            "Cohen's kappa per label, over the answers both annotators labelled (1 = always agree, 0 = no better than chance). "
            f"Annotators are people, model judges (judge:…) and the detectors' flags ({AUTOMATIC_FLAGS})."
            if rows
            else "No answer of this batch was labelled by two annotators (people, a model judge or the automatic flags) yet, "
            "so there is no agreement to measure."
        )
        self.agreement.setVisible(bool(rows))
        self.agreement.setRowCount(len(rows))
        for row, a in enumerate(rows):
            cells = (
                _item(data.titles.get(a.label, a.label)),
                _item(f"{a.annotator_a} & {a.annotator_b}"),
                _item(str(a.responses), True),
                _item(percent(a.observed), True),
                # + 0.0: a kappa of -1e-17 is no agreement, not "-0.00".
                _item(format_kappa(a.kappa), True),
            )
            for column, cell in enumerate(cells):
                self.agreement.setItem(row, column, cell)
        self._fit(self.agreement)

    @staticmethod
    def _fit(table: QTableWidget) -> None:
        """Tall enough for every row: the whole view scrolls, not each table."""
        table.resizeColumnsToContents()
        table.resizeRowsToContents()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(table.rowCount())) + 2 * table.frameWidth()
        table.setFixedHeight(height)
