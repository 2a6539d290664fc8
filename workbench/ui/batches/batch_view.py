"""The Batches window: past batches, a matrix of prompts by models filling in, a summary.

The matrix shows, per prompt and model, the detectors' flags (dashed chips,
"?"), the labels people gave (solid chips) and a model judge's verdicts
(outlined chips, "(judge)"), so a researcher can leave a batch running and
come back to see where the models differ; sorting puts the most divergent
prompts first. A cell opens its run in the main window, where the
annotation tools are. "Judge with a model…" asks a model to label the
batch's answers (core/judge) on the shell's `JudgeThread`.

Everything read from the notebook (`core.batch.read_matrix`) is read on the
shared notebook queue; the batch itself runs on the shell's `BatchThread`,
which outlives this window (closing it does not stop a batch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, QSize, QSortFilterProxyModel, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QCloseEvent, QColor, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.batch import NOT_ASKED, BatchMatrix, BatchRunner, Cell, ItemOutcome, Progress, read_matrix
from ...core.comparison import ResponseOutcome
from ...core.engine.params import GenerationParams
from ...core.errors import EnvironmentProblem
from ...core.judge import Judged, JudgeResult, batch_targets
from ...core.notebook import Label, NotebookChange
from ...core.notebook.batches import DONE, RUNNING, Batch, BatchItem
from ...core.prompts import PromptSet, available_prompt_sets, find_prompt_set, read_prompt_set_file
from ..shared import describe
from ..shared.context import Activity, Context, ModelLibrary, NotebookEvents
from ..shared.message_bar import PROBLEM, MessageBar
from ..shared.text_label import text_label
from .batch_runner import BatchThread
from .judge_dialog import JudgeDialog
from .judge_runner import JudgeThread
from .new_batch_dialog import NewBatch, NewBatchDialog
from .summary_view import SummaryView

# What the matrix and the summary show: the items and their scores, flags, labels and verdicts.
MATRIX_TABLES = frozenset({"batches", "batch_items", "flags", "response_labels", "labels"})
ASKING = "asking"
# What a cell says besides its chips, by the answer's finish reason.
STATUS_TEXT = {
    NOT_ASKED: "not asked yet",
    ASKING: "asking…",
    "stop": "",
    "length": "max tokens",
    "error": "error",
    "stopped": "stopped",
    "crashed": "crashed",
}
BATCH_ID_ROLE = Qt.ItemDataRole.UserRole + 1
CHIPS_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4  # a cell's words besides its chips ("max tokens", "no flag")
PROMPT_CHARS = 80
# Fixed columns before the models' and after them.
ID, TOPIC, LANGUAGE, DIVERGENCE = range(4)
FIXED = ("Prompt", "Topic", "Lang.", "Divergence")
TEXT_HEADER = "Question"
JUDGE_SUFFIX = " (judge)"
# How long the matrix waits after a verdict before reading the notebook again (verdicts come in bursts).
JUDGE_REFRESH_MS = 700


INTERRUPTED = "interrupted"


def shown_status(batch: Batch, running_id: int | None) -> str:
    """The batch this window runs is running, whatever the notebook said when it was read.
    One stored as running that this window is not running was stopped by a crash or a
    power cut (or is being run by another process): Resume goes on with it."""
    if batch.id == running_id:
        return RUNNING
    return INTERRUPTED if batch.status == RUNNING else batch.status


def batch_title(batch: Batch, running_id: int | None) -> str:
    models = ", ".join(m.name for m in batch.models)
    status = shown_status(batch, running_id)
    return f"#{batch.id} {batch.prompt_set_title}: {batch.done} of {batch.total} · {status}\n{models} · {describe.local_time(batch.created_at)}"


def progress_text(progress: Progress) -> str:
    """"3 of 40 prompts, about 12 min left": what the progress bar says."""
    head = f"{progress.done} of {progress.total} prompts"
    eta = progress.eta_s
    if progress.done >= progress.total:
        return head
    if eta is None:
        return f"{head}, timing the first prompt…"
    minutes = round(eta / 60)
    return f"{head}, " + ("less than a minute left" if minutes < 1 else f"about {minutes} min left")


class MatrixModel(QAbstractTableModel):
    """Prompts (rows) by models (columns); filled from the notebook, then live from the batch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_: BatchMatrix | None = None
        self._rows: dict[int, int] = {}  # item id -> row
        self._runs: dict[int, int] = {}  # item id -> the run that shows it now (done or being asked)

    @property
    def batch_id(self) -> int | None:
        return self.data_.batch.id if self.data_ else None

    @property
    def models(self) -> int:
        return len(self.data_.batch.models) if self.data_ else 0

    def set_matrix(self, data: BatchMatrix | None) -> None:
        self.beginResetModel()
        self.data_ = data
        self._rows = {item.id: row for row, item in enumerate(data.items)} if data else {}
        self._runs = {item.id: item.run_id for item in data.items if item.run_id is not None} if data else {}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's name
        return 0 if parent.isValid() or self.data_ is None else len(self.data_.items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's name
        return 0 if parent.isValid() or self.data_ is None else len(FIXED) + self.models + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or self.data_ is None:
            return None
        model = section - len(FIXED)
        if role == Qt.ItemDataRole.DisplayRole:
            if section < len(FIXED):
                return FIXED[section]
            return self.data_.batch.models[model].name if model < self.models else TEXT_HEADER
        if role == Qt.ItemDataRole.ToolTipRole and section == DIVERGENCE:
            return "How differently the models answered (0 to 1); click to sort, most divergent first"
        return None

    def cell(self, index: QModelIndex | QPersistentModelIndex) -> Cell | None:
        """The answer at a model column; None elsewhere."""
        if self.data_ is None or not index.isValid():
            return None
        model = index.column() - len(FIXED)
        if not 0 <= model < self.models:
            return None
        item = self.data_.items[index.row()]
        return self.data_.cells.get((item.id, model), Cell(NOT_ASKED))

    def run_id(self, index: QModelIndex) -> int | None:
        if self.data_ is None or not index.isValid():
            return None
        return self._runs.get(self.data_.items[index.row()].id)

    def chips(self, cell: Cell) -> list[tuple[str, str | None, bool | None]]:
        """(text, colour, solid) per chip: people's labels solid (True); a judge's verdicts no
        person gave outlined (None); flags neither already says dashed (False)."""
        labels = self.data_.labels if self.data_ else {}

        def title(n: str) -> str:
            return labels[n].title if n in labels else n

        def colour(n: str) -> str | None:
            return labels[n].colour if n in labels else None

        chips: list[tuple[str, str | None, bool | None]] = [(title(n), colour(n), True) for n in cell.labels]
        chips += [(title(n) + JUDGE_SUFFIX, colour(n), None) for n in cell.judged if n not in cell.labels]
        chips += [(f"{title(n)}?", colour(n), False) for n in cell.flags if n not in cell.labels and n not in cell.judged]
        return chips

    def status_text(self, cell: Cell) -> str:
        status = STATUS_TEXT.get(cell.status, cell.status)
        return status or ("" if cell.flags or cell.labels or cell.judged else "no flag")

    def cell_text(self, cell: Cell) -> str:
        """The cell in words: its chips' texts, then its status in brackets (tests read this)."""
        parts = [text for text, _, _ in self.chips(cell)]
        status = self.status_text(cell)
        if status:
            parts.append(f"({status})" if parts else status)
        return " ".join(parts)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self.data_ is None or not index.isValid():
            return None
        item = self.data_.items[index.row()]
        column = index.column()
        cell = self.cell(index)
        if cell is not None:
            if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
                return self.cell_text(cell)
            if role == CHIPS_ROLE:
                return self.chips(cell)
            if role == STATUS_ROLE:
                return self.status_text(cell)
            if role == Qt.ItemDataRole.ToolTipRole:
                return describe.tooltip(f"{self.cell_text(cell)}\nDouble-click or Enter: open this run in the main window to annotate it.")
            return None
        if role == SORT_ROLE:
            if column == DIVERGENCE:  # unscored prompts below every score when most divergent is first
                return -1.0 if item.divergence is None else item.divergence
            return {ID: item.position, TOPIC: item.topic, LANGUAGE: item.language}.get(column, item.prompt)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == ID:
                return item.prompt_id
            if column == TOPIC:
                return item.topic
            if column == LANGUAGE:
                return item.language
            if column == DIVERGENCE:
                return "—" if item.divergence is None else f"{item.divergence:.2f}"
            text = " ".join(item.prompt.split())
            return text if len(text) <= PROMPT_CHARS else text[: PROMPT_CHARS - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and column == len(FIXED) + self.models:
            return describe.tooltip(item.prompt)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == DIVERGENCE:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    # --- live updates from the batch thread -------------------------------------------------

    def _row_changed(self, item_id: int) -> None:
        row = self._rows[item_id]
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def item_started(self, item: BatchItem) -> None:
        if self.data_ is None or item.id not in self._rows:
            return
        for position in range(self.models):
            self.data_.cells[(item.id, position)] = Cell(ASKING)
        self._row_changed(item.id)

    def run_created(self, item: BatchItem, run_id: int) -> None:
        if self.data_ is not None and item.id in self._rows:
            self._runs[item.id] = run_id

    def response_finished(self, item: BatchItem, outcome: ResponseOutcome, flags: tuple[str, ...]) -> None:
        if self.data_ is None or item.id not in self._rows:
            return
        self.data_.cells[(item.id, outcome.position)] = Cell(outcome.result.finish_reason, flags)
        self._row_changed(item.id)

    def item_finished(self, outcome: ItemOutcome) -> None:
        if self.data_ is None or outcome.item.id not in self._rows:
            return
        self.data_.items[self._rows[outcome.item.id]] = outcome.item
        for position, (reason, flags) in enumerate(zip(outcome.finish_reasons, outcome.flags)):
            # The whole prompt again (a matrix read mid-prompt may have missed an answer);
            # a prompt stopped midway is asked again on resume, so it shows as not asked.
            self.data_.cells[(outcome.item.id, position)] = Cell(reason, flags) if outcome.complete else Cell(NOT_ASKED)
        self._row_changed(outcome.item.id)

    def set_progress(self, done: int) -> None:
        if self.data_ is not None:
            self.data_.batch = replace(self.data_.batch, done=done)

    def batch_ended(self, batch: Batch) -> None:
        """The batch shown has stopped (done, paused, cancelled): its state, before the
        notebook is read again, so nothing on screen still calls it running."""
        if self.data_ is not None and self.data_.batch.id == batch.id:
            self.data_.batch = batch


class ChipDelegate(QStyledItemDelegate):
    """Paints a cell's labels and flags as chips, sized from the font so large text stays readable."""

    GAP = 4
    PAD = 6

    def _chip_width(self, option: QStyleOptionViewItem, text: str) -> int:
        return option.fontMetrics.horizontalAdvance(text) + 2 * self.PAD

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        chips = index.data(CHIPS_ROLE)
        if chips is None:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        palette = option.palette
        text_colour = palette.highlightedText().color() if option.state & QStyle.StateFlag.State_Selected else palette.text().color()
        height = option.fontMetrics.height() + 4
        rect = option.rect.adjusted(self.PAD, 0, -self.PAD, 0)
        x, top = rect.left(), rect.top() + (rect.height() - height) // 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for text, colour, solid in chips:
            width = self._chip_width(option, text)
            chip = QRect(x, top, width, height)
            accent = QColor(colour) if colour else palette.mid().color()
            if solid:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(accent)
                painter.drawRoundedRect(chip, height / 2, height / 2)
                painter.setPen(QColor("white"))
            else:  # a judge's verdict: outlined; a flag: dashed
                pen = QPen(accent, 1.5, Qt.PenStyle.SolidLine if solid is None else Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(chip.adjusted(1, 1, -1, -1), height / 2, height / 2)
                painter.setPen(text_colour)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
            x += width + self.GAP
        status = index.data(STATUS_ROLE)
        if status:
            selected = option.state & QStyle.StateFlag.State_Selected
            painter.setPen(text_colour if selected else palette.placeholderText().color())
            painter.drawText(QRect(x, rect.top(), max(0, rect.right() - x), rect.height()), Qt.AlignmentFlag.AlignVCenter, status)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 - Qt's name
        chips = index.data(CHIPS_ROLE)
        if chips is None:
            return super().sizeHint(option, index)
        self.initStyleOption(option, index)
        width = sum(self._chip_width(option, text) + self.GAP for text, _, _ in chips)
        status = index.data(STATUS_ROLE)
        if status:
            width += option.fontMetrics.horizontalAdvance(status)
        return QSize(width + 2 * self.PAD, option.fontMetrics.height() + 12)


def _load_prompt_sets() -> list[PromptSet]:
    """The shipped sets (worker thread): a broken one is left out rather than hiding the others."""
    found = []
    for name in available_prompt_sets():
        try:
            found.append(find_prompt_set(name))
        except EnvironmentProblem:
            continue
    return found


class BatchesWindow(QMainWindow):
    """Run > Batches…: one per main window, hidden (not destroyed) when closed.

    It is handed what it uses, never the main window: the shared services, the model
    library (what a new batch or a judge chooses from), the activity (a comparison or a
    replay in the main window holds the models too), the two threads the shell owns
    (a batch or a judge outlives this window), and three callables for what other
    features own: `show_run(run_id)` shows a saved run in the main window and brings
    it to the front, `batch_params()` gives the shared settings for a new batch
    (ValueError when one is invalid), `chosen_models()` the ids of the panes' models.
    """

    batchesLoaded = Signal()  # the list of batches was read
    matrixLoaded = Signal(int)  # a batch's matrix was read from the notebook
    batchFinished = Signal(object)  # BatchResult, or None when the batch could not run
    dialogOpened = Signal(object)  # the NewBatchDialog, once the prompt sets are read
    judgeDialogOpened = Signal(object)  # the JudgeDialog
    judgeFinished = Signal(object)  # JudgeResult, or None when the judge could not run

    def __init__(
        self,
        context: Context,
        library: ModelLibrary,
        activity: Activity,
        notebook_events: NotebookEvents,
        batch_thread: BatchThread,
        judge_thread: JudgeThread,
        *,
        show_run: Callable[[int], None],
        batch_params: Callable[[], GenerationParams],
        chosen_models: Callable[[], list[str]],
    ) -> None:
        super().__init__(context.parent, Qt.WindowType.Window)
        self._context = context
        self._library = library
        self._activity = activity
        notebook_events.watch(MATRIX_TABLES)
        notebook_events.changed.connect(self._notebook_changed)
        self._show_run = show_run
        self._batch_params = batch_params
        self._chosen_models = chosen_models
        self.batch_thread = batch_thread
        self.judge_thread = judge_thread
        self.judge_dialog: JudgeDialog | None = None
        self._judging: int | None = None  # the batch being judged
        self._judge_ended: Callable[[JudgeResult | None], None] | None = None  # tells the dialog
        self._judge_refresh = QTimer(self)
        self._judge_refresh.setSingleShot(True)
        self._judge_refresh.setInterval(JUDGE_REFRESH_MS)
        self._judge_refresh.timeout.connect(self._show_judged)
        self.setWindowTitle("Batches — Model Values Workbench")
        # The items being asked in the running batch, by id: several at once when its models
        # are on endpoints (core/lanes.py).
        self._asking: dict[int, BatchItem] = {}
        self._asking_progress = ""  # the progress text while it is asked, before any follow-up of it
        self._running_id: int | None = None  # the running batch, from Resume or once a new one is created
        self._sort_at_next_read: int | None = None  # a batch that has just stopped: sorted anew once read
        self._selected: int | None = None
        self._labels: dict[str, Label] = {}  # the notebook's label set, for a new batch's chips

        self.messages = MessageBar()
        self.new_button = QPushButton("New batch…")
        self.new_button.setToolTip("Ask every prompt of a prompt set of several models")
        self.new_button.clicked.connect(self.new_batch)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.currentItemChanged.connect(self._batch_chosen)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.list, 1)

        self.heading = text_label("Choose a batch, or start a new one.", role="heading")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Stop after the prompt being asked; Resume goes on from there")
        self.pause_button.clicked.connect(self.pause)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Ask the prompts not done yet (done ones are not asked again)")
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now, mid-answer; that prompt is asked again on resume")
        self.cancel_button.clicked.connect(self.cancel)
        self.judge_button = QPushButton("Judge with a model…")
        self.judge_button.setToolTip("Have a model label this batch's answers with SpeechMap's rubric (complete, evasive, denial)")
        self.judge_button.clicked.connect(self.judge)
        controls = QHBoxLayout()
        controls.addWidget(self.progress, 1)
        for button in (self.pause_button, self.resume_button, self.cancel_button, self.judge_button):
            controls.addWidget(button)

        self.matrix = MatrixModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.matrix)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(ChipDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self.open_cell)
        self.table.installEventFilter(self)
        self.matrix.modelReset.connect(self._fit_columns)
        self.legend = QLabel(
            "Dashed chips with “?” are the detectors' flags; solid chips are labels people gave; "
            "outlined chips marked “(judge)” are a model judge's verdicts. "
            "Double-click a cell (or press Enter) to open its run in the main window and annotate it."
        )
        self.legend.setWordWrap(True)
        self.legend.setProperty("muted", True)
        matrix_tab = QWidget()
        matrix_layout = QVBoxLayout(matrix_tab)
        matrix_layout.setContentsMargins(0, 4, 0, 0)
        matrix_layout.addWidget(self.legend)
        matrix_layout.addWidget(self.table, 1)
        self.summary = SummaryView(context.notebook_tasks, context.workspace)
        self.tabs = QTabWidget()
        self.tabs.addTab(matrix_tab, "Matrix")
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.currentChanged.connect(self._tab_changed)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.heading)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.tabs, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([320, 1100])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.messages)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.resize(1440, 860)

        t = self.batch_thread
        t.started.connect(self._update_buttons)
        t.batchStarted.connect(self._batch_started)
        t.itemStarted.connect(self._item_started)
        t.followUpStarted.connect(self._follow_up_started)
        t.runCreated.connect(self.matrix.run_created)
        t.responseFinished.connect(self.matrix.response_finished)
        t.itemFinished.connect(self._item_finished)
        t.problem.connect(lambda text: self.messages.show_notice("batch", text, PROBLEM))
        t.failed.connect(self._failed)
        t.finished.connect(self._finished)
        j = self.judge_thread
        j.answerJudged.connect(self._answer_judged)
        j.finished.connect(self._judge_finished)
        self._update_buttons()

    # --- opening and choosing ----------------------------------------------------------------

    def open(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
        self.load_batches(self._selected)

    @property
    def shown_batch_id(self) -> int | None:
        """The batch whose matrix is on screen: None while this window is hidden."""
        return self.matrix.batch_id if self.isVisible() else None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Only hides: a running batch goes on, and the matrix is here again on return."""
        self.hide()
        event.ignore()

    def load_batches(self, select: int | None = None) -> None:
        """Read the batch list and the label set; `select` marks a batch (without reading it again)."""
        notebook = self._context.workspace.notebook

        def shown(read: tuple[list[Batch], list[Label]]) -> None:
            batches, labels = read
            self._labels = {label.name: label for label in labels}
            self.list.blockSignals(True)
            self.list.clear()
            for batch in batches:
                item = QListWidgetItem(batch_title(batch, self._running_id))
                item.setData(BATCH_ID_ROLE, batch.id)
                self.list.addItem(item)
                if batch.id == select:
                    self.list.setCurrentItem(item)
            self.list.blockSignals(False)
            if select is None and self.list.count() and self._selected is None:
                self.list.setCurrentRow(0)
            self._update_buttons()
            self.batchesLoaded.emit()

        self._context.notebook_tasks.submit(lambda: (notebook.batches.recent(), notebook.labels.all()), shown)

    def _batch_chosen(self, current: QListWidgetItem | None, _previous: object = None) -> None:
        if current is not None:
            self.show_batch(current.data(BATCH_ID_ROLE))

    def _notebook_changed(self, change: NotebookChange) -> None:
        """Flags recomputed, labels or verdicts written, a batch's scores changed, by anyone:
        the batch on screen is read again. Not while a batch or a judge is at work: each
        reports its progress to this window as it goes, and a read per answer would
        only repeat that."""
        if (
            self.isVisible()
            and self._selected is not None
            and not (self._activity.batch or self._activity.judging)
            and change.touches(MATRIX_TABLES)
        ):
            self.show_batch(self._selected)

    def show_batch(self, batch_id: int) -> None:
        """Read the batch's matrix (and summary) from the notebook and show it."""
        self._selected = batch_id
        notebook = self._context.workspace.notebook
        self._context.notebook_tasks.submit(lambda: read_matrix(notebook, batch_id), self._matrix_read)
        if self.tabs.currentWidget() is self.summary:
            self.summary.show_batch(batch_id)

    def _matrix_read(self, data: BatchMatrix) -> None:
        if data.batch.id != self._selected:
            return  # the user chose another batch meanwhile
        before = self.matrix.data_
        # A reread of the same batch keeps the order the user chose; a batch shown anew, or one
        # that has just finished, is sorted by default.
        keep_order = before is not None and before.batch.id == data.batch.id and self._sort_at_next_read != data.batch.id
        self._sort_at_next_read = None
        self.matrix.set_matrix(data)
        if data.batch.id == self._running_id:
            for asked in self._asking.values():
                self.matrix.item_started(asked)
        self._show_heading(data.batch)
        if data.batch.id != self._running_id:
            self._show_stored_progress(data.batch)
        if not keep_order:
            self._default_sort()
        self._update_buttons()
        self.matrixLoaded.emit(data.batch.id)

    def _default_sort(self) -> None:
        """Most divergent first once some prompts are scored; prompt-set order before that."""
        scored = self.matrix.data_ is not None and any(i.divergence is not None for i in self.matrix.data_.items)
        if scored:
            self.table.sortByColumn(DIVERGENCE, Qt.SortOrder.DescendingOrder)
        else:
            self.table.sortByColumn(ID, Qt.SortOrder.AscendingOrder)

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        for column in range(self.matrix.columnCount() - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()

    def _show_heading(self, batch: Batch) -> None:
        filters = batch.filters or {}
        chosen = [
            f"topics: {', '.join(filters['topics'])}" if filters.get("topics") else "",
            f"languages: {', '.join(filters['languages'])}" if filters.get("languages") else "",
            f"first {filters['limit']} questions" if filters.get("limit") else "",
        ]
        which = "; ".join(c for c in chosen if c)
        status = shown_status(batch, self._running_id)
        self.heading.setText(f"Batch #{batch.id}: {batch.prompt_set_title} ({batch.prompt_set_id}{', ' + which if which else ''}) — {status}")

    def _show_stored_progress(self, batch: Batch) -> None:
        self.progress.setRange(0, max(1, batch.total))
        self.progress.setValue(batch.done)
        status = shown_status(batch, self._running_id)
        self.progress.setFormat(f"{batch.done} of {batch.total} prompts" + ("" if status == DONE else f" ({status})"))

    def _tab_changed(self) -> None:
        if self.tabs.currentWidget() is self.summary and self._selected is not None:
            self.summary.show_batch(self._selected)

    # --- opening a cell ------------------------------------------------------------------------

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        """Enter on a cell opens it, as a double-click does."""
        if watched is self.table and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.currentIndex().isValid():
                self.open_cell(self.table.currentIndex())
                return True
        return super().eventFilter(watched, event)

    def open_cell(self, index: QModelIndex) -> None:
        """Show the cell's run in the main window's panes, where it can be annotated."""
        run_id = self.matrix.run_id(self.proxy.mapToSource(index))
        if run_id is None:
            self.statusBar().showMessage("This prompt has not been asked yet.", 5000)
            return
        if self._activity.panes_busy:
            self.statusBar().showMessage("The main window is running a comparison; open the run when it ends.", 5000)
            return
        self._show_run(run_id)

    # --- running -------------------------------------------------------------------------------

    def _refuse_start(self) -> bool:
        """True (and says why) when the models are taken: one batch, judge or comparison at a time."""
        if self.batch_thread.running:
            self.messages.show_notice("busy", "A batch is already running. Pause or cancel it first.", PROBLEM)
            return True
        if self.judge_thread.running:
            self.messages.show_notice("busy", "A model is judging answers. Wait for it or cancel it (in its dialog) first.", PROBLEM)
            return True
        if self._activity.panes_busy:
            self.messages.show_notice(
                "busy", "The main window is running a comparison. Wait for it to finish (or stop it with Esc there), then start the batch.", PROBLEM
            )
            return True
        self.messages.dismiss("busy")
        return False

    def new_batch(self) -> None:
        """Read the shipped prompt sets off the GUI thread, then ask what to run."""
        if self._refuse_start():
            return
        self._context.notebook_tasks.submit(_load_prompt_sets, self._open_dialog)

    def _open_dialog(self, prompt_sets: list[PromptSet]) -> None:
        try:
            params = self._batch_params()
        except ValueError as problem:
            self.messages.show_notice("settings", f"Check the shared settings in the main window: {problem}", PROBLEM)
            return
        dialog = NewBatchDialog(prompt_sets, self._library.entries, self._chosen_models(), params, self._load_set_file, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._dialog_accepted(dialog))
        dialog.open()
        self.dialogOpened.emit(dialog)

    def _load_set_file(self, path: Any, then: Any) -> None:
        def failed(problem: EnvironmentProblem) -> None:
            self.messages.show_notice("prompt-set", str(problem), PROBLEM)

        self._context.notebook_tasks.submit(lambda: read_prompt_set_file(path), then, failed)

    def _dialog_accepted(self, dialog: NewBatchDialog) -> None:
        request = dialog.request()
        if request is not None:
            self.start_new(request)

    def start_new(self, request: NewBatch) -> None:
        """Create the batch (hashing the models) and run it, both on the batch thread."""
        if self._refuse_start():
            return

        def create(runner: BatchRunner) -> int:
            batch = runner.create(
                request.prompt_set, list(request.entries), request.params,
                topics=request.topics, languages=request.languages, limit=request.limit, sequences=request.sequences,
            )
            return batch.id

        self.progress.setRange(0, 0)  # busy until the batch has started
        self.progress.setFormat("Preparing the batch…")
        self.batch_thread.start(0, create)

    def resume(self) -> None:
        """Ask the selected batch's remaining prompts, with its own models and settings."""
        if self._selected is None or self._refuse_start():
            return
        self._running_id = self._selected  # from now on, not once its models are found: Pause is on already
        if self.matrix.data_ is not None and self.matrix.batch_id == self._selected:
            self._retitle(self.matrix.data_.batch)
            self._show_heading(self.matrix.data_.batch)
        self.progress.setFormat("Finding the batch's models…")
        self.batch_thread.start(self._selected)

    def pause(self) -> None:
        if self.batch_thread.running:
            self.batch_thread.pause()
            self.pause_button.setEnabled(False)
            self.progress.setFormat(self.progress.format() + " — pausing after this prompt…")

    def cancel(self) -> None:
        if self.batch_thread.running:
            self.batch_thread.stop()
            self._update_buttons()
            self.progress.setFormat("Cancelling… the prompt being asked will be asked again on resume")

    def _update_buttons(self) -> None:
        running = self.batch_thread.running or self.judge_thread.running
        selected_done = self.matrix.data_ is not None and self.matrix.data_.batch.status == DONE and self.matrix.batch_id != self._running_id
        answered = self.matrix.data_ is not None and self.matrix.data_.batch.done > 0
        self.judge_button.setEnabled(not running and answered and self.matrix.batch_id == self._selected)
        self.new_button.setEnabled(not running)
        self.pause_button.setEnabled(self.batch_thread.running and not self.batch_thread.pausing)
        self.cancel_button.setEnabled(self.batch_thread.running)
        self.resume_button.setEnabled(not running and self._selected is not None and not selected_done)

    def _batch_started(self, batch: Batch, items: list[BatchItem]) -> None:
        self._running_id = batch.id
        self.messages.dismiss("batch")
        if self.matrix.batch_id != batch.id:  # a new batch: nothing answered yet
            self._selected = batch.id
            self.matrix.set_matrix(BatchMatrix(batch, list(items), labels=dict(self._labels)))
            self._default_sort()
            self.load_batches(batch.id)
        else:  # resumed: its line said paused, cancelled or interrupted
            self._retitle(batch)
        self._show_heading(batch)
        self.progress.setRange(0, max(1, batch.total))
        self.progress.setValue(batch.done)
        self.progress.setFormat(f"{batch.done} of {batch.total} prompts, timing the first prompt…")
        self._update_buttons()

    def _item_started(self, item: BatchItem, progress: Progress) -> None:
        self._asking[item.id] = item
        self._asking_progress = progress_text(progress)
        self.matrix.item_started(item)
        if not self.batch_thread.pausing:
            self.progress.setFormat(self._asking_progress)

    def _follow_up_started(self, _item: BatchItem, number: int, total: int) -> None:
        """The prompt being asked is answered; its scripted follow-ups come now, in its run."""
        if not self.batch_thread.pausing:
            self.progress.setFormat(f"{self._asking_progress} · follow-up {number} of {total}")

    def _item_finished(self, outcome: ItemOutcome, progress: Progress) -> None:
        self._asking.pop(outcome.item.id, None)
        if self.matrix.batch_id == outcome.item.batch_id:
            self.matrix.item_finished(outcome)
            self.matrix.set_progress(progress.done)
            self._fit_columns()  # answers are wider than "asking…"
            if self.tabs.currentWidget() is self.summary:
                self.summary.show_batch(outcome.item.batch_id)
        if self.matrix.data_ is not None and self.matrix.batch_id == outcome.item.batch_id:
            self._retitle(self.matrix.data_.batch)
        self.progress.setValue(progress.done)
        if not self.batch_thread.pausing:
            self.progress.setFormat(progress_text(progress))

    def _retitle(self, batch: Batch) -> None:
        """The list says how far a batch is, and whether it runs, as soon as this window
        knows: the heading and the buttons follow the same news, so they never disagree."""
        for row in range(self.list.count()):
            if self.list.item(row).data(BATCH_ID_ROLE) == batch.id:
                self.list.item(row).setText(batch_title(batch, self._running_id))

    def _failed(self, text: str) -> None:
        self.messages.show_notice("batch", text, PROBLEM)

    def _finished(self, result: Any) -> None:
        finished_id = self._running_id
        self._running_id = None
        self._asking.clear()
        if result is not None:
            self.statusBar().showMessage(f"Batch #{result.batch.id}: {result.batch.done} of {result.batch.total} prompts done ({result.batch.status}).", 8000)
            self.matrix.batch_ended(result.batch)
            self._retitle(result.batch)
            if self.matrix.batch_id == result.batch.id:
                self._show_heading(result.batch)
                self._show_stored_progress(result.batch)
                self._sort_at_next_read = result.batch.id
        select = result.batch.id if result is not None else finished_id
        self.load_batches(select)  # first: the notebook queue answers in order, the matrix last
        if select is not None:
            self.show_batch(select)
        else:  # the batch could not even be created: nothing to show
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("")
        self._update_buttons()
        self.batchFinished.emit(result)

    # --- judging -------------------------------------------------------------------------------

    def judge(self) -> JudgeDialog | None:
        """Judge with a model…: the dialog picks the model; the main window's judge thread runs it."""
        data = self.matrix.data_
        if data is None:
            return None
        if self.judge_dialog is not None and self.judge_dialog.running:
            self.judge_dialog.show()
            self.judge_dialog.raise_()
            return self.judge_dialog
        if self.judge_dialog is not None:
            self.judge_dialog.deleteLater()
        dialog = JudgeDialog(data.batch, self._library.entries, self)
        dialog.judgeRequested.connect(lambda entry, redo: self.start_judging(dialog, entry, redo))
        dialog.cancelRequested.connect(self.judge_thread.stop)
        self.judge_dialog = dialog
        dialog.show()
        self.judgeDialogOpened.emit(dialog)
        return dialog

    def start_judging(self, dialog: JudgeDialog, entry: Any, redo: bool) -> None:
        """Run the judge over the dialog's batch; the dialog hears its progress until it ends."""
        if self._refuse_start():
            dialog.refused("The models are busy (a batch, a comparison or another judge): try again when it ends.")
            return
        batch_id = dialog.batch.id
        self._judging = batch_id
        t = self.judge_thread
        failure: list[str] = []
        links: list[tuple[SignalInstance, Callable[..., Any]]] = [
            (t.judgingStarted, dialog.started_counts),
            (t.loading, dialog.loading),
            (t.answerJudged, dialog.answer_judged),
            (t.failed, failure.append),
        ]
        for signal, slot in links:
            signal.connect(slot)

        def ended(result: JudgeResult | None) -> None:
            for signal, slot in links:
                signal.disconnect(slot)
            dialog.judging_ended(result, failure[0] if failure else "")

        self._judge_ended = ended  # called by _judge_finished, before judgeFinished is emitted
        dialog.judging()
        t.start(lambda notebook: batch_targets(notebook, batch_id), entry, redo=redo)
        self._update_buttons()

    def _answer_judged(self, _judged: Judged, _done: int, _total: int) -> None:
        if not self._judge_refresh.isActive():
            self._judge_refresh.start()

    def _show_judged(self) -> None:
        """Verdicts arrived: the matrix (and the summary, when shown) read the notebook again."""
        if self._judging is not None and self._judging == self._selected:
            self.show_batch(self._judging)

    def _judge_finished(self, result: JudgeResult | None) -> None:
        self._judge_refresh.stop()
        ended, self._judge_ended = self._judge_ended, None
        if ended is not None:
            ended(result)
        judged, self._judging = self._judging, None
        if judged is not None and judged == self._selected:
            self.show_batch(judged)
        self._update_buttons()
        self.judgeFinished.emit(result)
