"""The notebook's schema, as named steps applied in order.

Never edit a migration once released: notebooks in the wild were built by
it. Change the schema by adding the next `mNNN_…` function. The list of
applied names is also how a notebook from a newer workbench is recognised
and refused (see `database.py`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, UTC
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "workbench"
migrations = Migrations(MIGRATION_SET)


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


@migrations()
def m001_models_runs_responses(db: Database) -> None:
    # Models are identified by content (SHA-256), so the same file moved or
    # renamed is still the same model across notebooks.
    _table(db, "models").create(
        {
            "sha256": str,
            "catalog_id": str,
            "name": str,
            "path": str,
            "file_size": int,
            "architecture": str,
            "parameters": int,
            "quantization": str,
            "context_length": int,
            "maker": str,
            "origin_country": str,
            "base_maker": str,
            "base_country": str,
            "origin_source": str,
            "license": str,
            "chat_template_sha256": str,
            "metadata": str,  # JSON: the small GGUF key/values
            "first_seen": str,
            "last_seen": str,
        },
        pk="sha256",
        not_null={"name", "path"},
    )
    _table(db, "runs").create(
        {
            "id": int,
            "uid": str,  # stable across export and import
            "created_at": str,  # ISO 8601, UTC
            "prompt": str,
            "system_prompt": str,
            "language": str,  # "en", "zh", or null when unclear
            "settings": str,  # JSON: the shared GenerationParams
            "schedule": str,  # "sequential" or "parallel"
            "app_version": str,
        },
        pk="id",
        not_null={"uid", "created_at", "prompt"},
    )
    _table(db, "runs").create_index(["uid"], unique=True)
    _table(db, "runs").create_index(["created_at"])
    _table(db, "responses").create(
        {
            "id": int,
            "uid": str,
            "run_id": int,
            "position": int,  # the pane, left to right
            "model_sha256": str,
            "model_name": str,
            "origin_country": str,
            "status": str,  # "pending", "streaming", or "done"
            "text": str,
            "reasoning": str,
            "finish_reason": str,  # see engine.backend FINISH_*
            "error": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "ttft_s": float,
            "tokens_per_s": float,
            "duration_s": float,
            "load_s": float,
            "seed": int,
            "sampler": str,  # JSON: the GenerationParams this model used
            "llama_cpp_version": str,
            "chat_template": str,  # "gguf" or "fallback:chatml"
            "template_sha256": str,
            "timeline": str,  # JSON [[ms, 0=answer|1=reasoning, chars], ...] for replay
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        not_null={"uid", "run_id", "position", "model_name", "status"},
        foreign_keys=[("run_id", "runs", "id"), ("model_sha256", "models", "sha256")],
        defaults={"text": "", "reasoning": "", "status": "pending"},
    )
    _table(db, "responses").create_index(["uid"], unique=True)
    _table(db, "responses").create_index(["run_id", "position"])
    _table(db, "responses").create_index(["model_sha256"])


# The built-in label set as m002 wrote it: (name, title, definition, colour).
# Frozen with the migration; a later change of wording is a later migration.
M002_LABELS = (
    ("answered", "Answered", "Gives a substantive answer to the question as asked.", "#2e7d32"),
    ("hard_refusal", "Hard refusal", "Declines outright to engage (\"I can't help with that\").", "#c62828"),
    ("evasive", "Evasive", "Seems to respond but sidesteps: vague, off-topic or changes the subject.", "#ef6c00"),
    ("state_narrative", "State narrative", "Repeats a government's official framing as if it were settled fact.", "#ad1457"),
    ("premise_rejected", "Premise rejected", "Disputes or corrects the question's premise instead of answering it.", "#6a1b9a"),
    ("soft_omission", "Soft omission", "Answers, but leaves out facts central to the topic.", "#f9a825"),
    ("factual_error", "Factual error", "States something false or invents facts, sources or events.", "#4e342e"),
    ("balanced", "Balanced", "Presents the main perspectives fairly, each attributed.", "#00838f"),
    ("one_sided", "One-sided", "Presents a single perspective as the whole story.", "#0277bd"),
    ("thought_suppressed", "Thought suppressed", "The reasoning (<think>) block is empty or cut short where reasoning was expected.", "#455a64"),
)
M002_LABEL_AUTHOR = "workbench"

# turns_fts rowid = run_id * TURNS_PER_RUN + turn (m009): a run holds fewer turns than this.
TURNS_PER_RUN = 1 << 20

# Appended to every indexed text so that each character starts a trigram:
# that is what lets a search for one or two characters (a Chinese word like
# 台湾) be answered from the trigram index (see search.py). Every trigger and
# view below must use the same expression, or FTS5 'delete' would not match.
_PAD = "char(10, 10)"


@migrations()
def m002_annotations_sessions_search(db: Database) -> None:
    """Labels, highlights, notes, run ratings, sessions, machine flags, full-text search.

    Plain SQL rather than sqlite-utils' create(): this needs ON DELETE
    CASCADE, expression indexes, views, FTS5 options and triggers. Value
    lists (ratings, link kinds, flag sources) are checked in Python, not with
    CHECK constraints, so that adding a value never needs a table rebuild.
    """
    audit = "annotator TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL"
    script = f"""
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        definition TEXT NOT NULL DEFAULT '',
        colour TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0,
        position INTEGER NOT NULL,
        {audit}
    );
    CREATE TABLE response_labels (
        id INTEGER PRIMARY KEY,
        response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
        label TEXT NOT NULL REFERENCES labels(name),
        {audit},
        UNIQUE (response_id, label, annotator)
    );
    CREATE INDEX response_labels_label ON response_labels(label, response_id);
    CREATE TABLE spans (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
        field TEXT NOT NULL CHECK (field IN ('text', 'reasoning')),
        start INTEGER NOT NULL CHECK (start >= 0),
        "end" INTEGER NOT NULL CHECK ("end" > start),
        quote TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        {audit}
    );
    CREATE INDEX spans_response ON spans(response_id);
    CREATE TABLE span_labels (
        id INTEGER PRIMARY KEY,
        span_id INTEGER NOT NULL REFERENCES spans(id) ON DELETE CASCADE,
        label TEXT NOT NULL REFERENCES labels(name),
        {audit},
        UNIQUE (span_id, label)
    );
    CREATE INDEX span_labels_label ON span_labels(label, span_id);
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        response_id INTEGER REFERENCES responses(id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        {audit}
    );
    CREATE UNIQUE INDEX notes_target ON notes(run_id, ifnull(response_id, 0), annotator);
    CREATE TABLE run_annotations (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        divergence TEXT,
        summary TEXT NOT NULL DEFAULT '',
        {audit},
        UNIQUE (run_id, annotator)
    );
    CREATE INDEX run_annotations_divergence ON run_annotations(divergence, run_id);
    CREATE TABLE run_links (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        run_a INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        run_b INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        note TEXT NOT NULL DEFAULT '',
        {audit},
        CHECK (run_a < run_b),
        UNIQUE (kind, run_a, run_b)
    );
    CREATE INDEX run_links_b ON run_links(run_b);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        archived_at TEXT,
        {audit}
    );
    CREATE UNIQUE INDEX sessions_name ON sessions(name COLLATE NOCASE);
    CREATE TABLE session_runs (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        {audit}
    );
    CREATE INDEX session_runs_session ON session_runs(session_id, run_id);
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        response_id INTEGER REFERENCES responses(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'auto',
        detector TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '{{}}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX flags_run ON flags(run_id);
    CREATE INDEX flags_response ON flags(response_id);
    CREATE INDEX flags_name ON flags(name);

    -- Answers still streaming (or left so by a killed app) are not in the
    -- index; search scans them through this small partial index instead.
    CREATE INDEX responses_unfinished ON responses(id) WHERE status != 'done';

    CREATE VIEW runs_searchable AS
        SELECT id, coalesce(prompt, '') || {_PAD} AS prompt, coalesce(system_prompt, '') || {_PAD} AS system_prompt
        FROM runs;
    CREATE VIRTUAL TABLE runs_fts USING fts5(
        prompt, system_prompt, content='runs_searchable', content_rowid='id', tokenize='trigram'
    );
    CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO runs_fts(rowid, prompt, system_prompt)
        VALUES (new.id, coalesce(new.prompt, '') || {_PAD}, coalesce(new.system_prompt, '') || {_PAD});
    END;
    CREATE TRIGGER runs_fts_update AFTER UPDATE OF prompt, system_prompt ON runs BEGIN
        INSERT INTO runs_fts(runs_fts, rowid, prompt, system_prompt)
        VALUES ('delete', old.id, coalesce(old.prompt, '') || {_PAD}, coalesce(old.system_prompt, '') || {_PAD});
        INSERT INTO runs_fts(rowid, prompt, system_prompt)
        VALUES (new.id, coalesce(new.prompt, '') || {_PAD}, coalesce(new.system_prompt, '') || {_PAD});
    END;
    CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
        INSERT INTO runs_fts(runs_fts, rowid, prompt, system_prompt)
        VALUES ('delete', old.id, coalesce(old.prompt, '') || {_PAD}, coalesce(old.system_prompt, '') || {_PAD});
    END;

    -- Only finished answers are indexed: the recorder rewrites a streaming
    -- answer every 50 ms, and re-indexing it each time would cost O(n^2).
    CREATE VIEW responses_searchable AS
        SELECT id, coalesce(text, '') || {_PAD} AS text, coalesce(reasoning, '') || {_PAD} AS reasoning
        FROM responses WHERE status = 'done';
    CREATE VIRTUAL TABLE responses_fts USING fts5(
        text, reasoning, content='responses_searchable', content_rowid='id', tokenize='trigram'
    );
    CREATE TRIGGER responses_fts_insert AFTER INSERT ON responses WHEN new.status = 'done' BEGIN
        INSERT INTO responses_fts(rowid, text, reasoning)
        VALUES (new.id, coalesce(new.text, '') || {_PAD}, coalesce(new.reasoning, '') || {_PAD});
    END;
    CREATE TRIGGER responses_fts_update AFTER UPDATE OF text, reasoning, status ON responses
    WHEN old.status = 'done' OR new.status = 'done' BEGIN
        INSERT INTO responses_fts(responses_fts, rowid, text, reasoning)
        SELECT 'delete', old.id, coalesce(old.text, '') || {_PAD}, coalesce(old.reasoning, '') || {_PAD}
        WHERE old.status = 'done';
        INSERT INTO responses_fts(rowid, text, reasoning)
        SELECT new.id, coalesce(new.text, '') || {_PAD}, coalesce(new.reasoning, '') || {_PAD}
        WHERE new.status = 'done';
    END;
    CREATE TRIGGER responses_fts_delete AFTER DELETE ON responses WHEN old.status = 'done' BEGIN
        INSERT INTO responses_fts(responses_fts, rowid, text, reasoning)
        VALUES ('delete', old.id, coalesce(old.text, '') || {_PAD}, coalesce(old.reasoning, '') || {_PAD});
    END;

    -- Notes, highlight notes and run summaries share one index that keeps
    -- its own copy (they are small). rowid = source row id * 4 + kind:
    -- 1 notes.body, 2 spans.note, 3 run_annotations.summary.
    CREATE VIRTUAL TABLE notes_fts USING fts5(body, tokenize='trigram');
    """
    for table, column, kind in (("notes", "body", 1), ("spans", "note", 2), ("run_annotations", "summary", 3)):
        script += f"""
    CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} WHEN new.{column} != '' BEGIN
        INSERT INTO notes_fts(rowid, body) VALUES (new.id * 4 + {kind}, new.{column} || {_PAD});
    END;
    CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {column} ON {table} BEGIN
        DELETE FROM notes_fts WHERE rowid = old.id * 4 + {kind};
        INSERT INTO notes_fts(rowid, body) SELECT new.id * 4 + {kind}, new.{column} || {_PAD} WHERE new.{column} != '';
    END;
    CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN
        DELETE FROM notes_fts WHERE rowid = old.id * 4 + {kind};
    END;
    """
    for statement in _statements(script):
        db.execute(statement)
    db.execute("INSERT INTO runs_fts(runs_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO responses_fts(responses_fts) VALUES ('rebuild')")
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    db.conn.executemany(
        "INSERT INTO labels (name, title, definition, colour, builtin, position, annotator, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
        [(name, title, definition, colour, i + 1, M002_LABEL_AUTHOR, now, now) for i, (name, title, definition, colour) in enumerate(M002_LABELS)],
    )



@migrations()
def m003_batches(db: Database) -> None:
    """Batches: a prompt set times chosen models, resumable after a crash.

    `batches` says what was asked (the set, its file's SHA-256, the filters,
    the models by SHA-256, the settings); `batch_items` is one row per prompt,
    with the run that answered it once that run is complete. Resuming runs
    the items whose status is not `done`. Each item keeps its prompt's text,
    topic, kind and translation, so summaries need not re-read the set file.
    `divergence` is the run's divergence score (analysis/divergence.py), kept
    here so the matrix can sort by it. Status values are checked in Python.
    """
    script = """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        prompt_set_id TEXT NOT NULL,
        prompt_set_title TEXT NOT NULL DEFAULT '',
        prompt_set_path TEXT,
        prompt_set_sha256 TEXT,
        filters TEXT NOT NULL DEFAULT '{}',
        models TEXT NOT NULL DEFAULT '[]',
        settings TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        total INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        app_version TEXT
    );
    CREATE TABLE batch_items (
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        prompt_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        kind TEXT NOT NULL,
        language TEXT NOT NULL,
        translation_of TEXT,
        prompt TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        divergence REAL,
        divergence_detail TEXT,
        duration_s REAL,
        finished_at TEXT,
        UNIQUE (batch_id, position),
        UNIQUE (batch_id, prompt_id)
    );
    CREATE INDEX batch_items_run ON batch_items(run_id);
    CREATE INDEX batch_items_divergence ON batch_items(batch_id, divergence);
    """
    for statement in _statements(script):
        db.execute(statement)


@migrations()
def m004_classroom(db: Database) -> None:
    """Classroom mode: audience votes on a run, and demo scripts.

    `votes` keeps one tally per (run, choice) and annotator. `choice` is a
    stored name that never changes meaning: `tie`, or `pane:N` for the
    answer at position N (the pane shown as "Model A" is position 0).

    A demo script is an ordered list of steps. A step says what to ask (the
    prompt, or a prompt-set entry by set and prompt id, with the text copied
    so the step works without the set file), which models (JSON list of
    {"sha256", "name"}), the speaker note, and optionally a recorded run to
    replay (`run_id`). `mode` is how the step plays by default: `live`,
    `replay` (at the recorded speed) or `instant`. Values are checked in
    Python, as in m002.
    """
    audit = "annotator TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL"
    script = f"""
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        choice TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
        {audit},
        UNIQUE (run_id, choice, annotator)
    );
    CREATE TABLE demo_scripts (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        {audit}
    );
    CREATE TABLE demo_steps (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        script_id INTEGER NOT NULL REFERENCES demo_scripts(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        prompt TEXT NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        language TEXT,
        prompt_set_id TEXT,
        prompt_id TEXT,
        models TEXT NOT NULL DEFAULT '[]',
        settings TEXT NOT NULL DEFAULT '{{}}',
        note TEXT NOT NULL DEFAULT '',
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        mode TEXT NOT NULL DEFAULT 'live',
        {audit}
    );
    CREATE INDEX demo_steps_script ON demo_steps(script_id, position);
    CREATE INDEX votes_run ON votes(run_id);
    """
    for statement in _statements(script):
        db.execute(statement)


@migrations()
def m005_flag_basis(db: Database) -> None:
    """What each automatic flag rests on, and how sure the detector is.

    `basis` is a stored name that never changes meaning: `rules` (a pattern
    matched, with evidence words), `classifier` (the trained compliance
    classifier alone) or `rules+classifier` (both agree). `confidence` is the
    classifier's probability for the flag, in [0, 1], or NULL where only rules
    speak. Rows written before this step keep NULL in both: their detector
    (`workbench-flags/1`) was rules only.
    """
    db.execute("ALTER TABLE flags ADD COLUMN basis TEXT")
    db.execute("ALTER TABLE flags ADD COLUMN confidence REAL")


@migrations()
def m006_response_writer(db: Database) -> None:
    """Which process writes each response, so an answer a killed process left
    `pending` or `streaming` can be told from one another live process is still
    writing (writers.py), and marked `interrupted` (a status added with this
    step; statuses.py). `writer_pid` is the process id, `writer_started` when
    that process started (an opaque string, compared for equality) and
    `writer_host` the computer's name. Rows written before this step keep
    NULL: no process can still be writing them.
    """
    db.execute("ALTER TABLE responses ADD COLUMN writer_pid INTEGER")
    db.execute("ALTER TABLE responses ADD COLUMN writer_started TEXT")
    db.execute("ALTER TABLE responses ADD COLUMN writer_host TEXT")


@migrations()
def m007_search_indexes_on_their_tables(db: Database) -> None:
    """`runs_fts` and `responses_fts` rebuilt with the tables themselves as their
    content, so other tools see the notebook's full-text search.

    m002 gave them the views runs_searchable and responses_searchable as their
    content. sqlite-utils (`Table.detect_fts`, `sqlite-utils search`) and Datasette
    (its search box) find a table's index by looking for `content="<table>"` in a
    virtual table's SQL, so they saw none. Here the content is `runs` and
    `responses` themselves, written `content="…"` (the form both look for), with the
    tables' own column names. What the app's search rests on stays as it was: the
    trigram tokenizer, the padding at the end of each indexed text (_PAD, for one- and
    two-character terms), only finished (`done`) answers indexed, and triggers that
    index exactly what they later 'delete': m002's, kept, since they write to the
    indexes by name and what they write is unchanged. Since the indexed text (padded)
    is not the table's text, these indexes are filled by the triggers and this step,
    never by FTS5's 'rebuild' (nor `sqlite-utils rebuild-fts`), which would index the
    unpadded text of every answer. The views go: nothing else used them.

    Every prompt and finished answer is indexed again here, in this step's
    transaction (as long as m002's first indexing took).
    """
    script = f"""
    DROP TABLE runs_fts;
    DROP TABLE responses_fts;
    DROP VIEW runs_searchable;
    DROP VIEW responses_searchable;
    CREATE VIRTUAL TABLE runs_fts USING fts5(
        prompt, system_prompt, content="runs", content_rowid="id", tokenize="trigram"
    );
    CREATE VIRTUAL TABLE responses_fts USING fts5(
        text, reasoning, content="responses", content_rowid="id", tokenize="trigram"
    );
    INSERT INTO runs_fts(rowid, prompt, system_prompt)
        SELECT id, coalesce(prompt, '') || {_PAD}, coalesce(system_prompt, '') || {_PAD} FROM runs;
    INSERT INTO responses_fts(rowid, text, reasoning)
        SELECT id, coalesce(text, '') || {_PAD}, coalesce(reasoning, '') || {_PAD} FROM responses WHERE status = 'done';
    """
    for statement in _statements(script):
        db.execute(statement)


@migrations()
def m008_model_template_hash_of_stored_bytes(db: Database) -> None:
    """`models.chat_template_sha256` recomputed as SHA-256 of the template exactly as
    the GGUF stores it, the hash each response's `template_sha256` already holds.

    Before this step the catalog hashed the template with its leading and trailing
    whitespace stripped, so a template ending in a newline (most do) got a hash in
    the `models` row that no response of that model carried. The row describes the
    file and is rewritten whenever the model is used, so this only does at once what
    the next use would do; responses are not touched. The template is read from the
    row's own `metadata` (the header's values, the template unstripped); a row
    without one keeps its value. Hashed here, not through core/chat_template.py, so
    this step stays what it is if that ever changes.
    """
    rows = db.execute(
        """select sha256, json_extract(metadata, '$."tokenizer.chat_template"') from models
           where json_valid(metadata) and json_type(metadata, '$."tokenizer.chat_template"') = 'text'"""
    ).fetchall()
    for sha256, template in rows:
        if template:
            db.execute(
                "update models set chat_template_sha256 = ? where sha256 = ?",
                [hashlib.sha256(template.encode("utf-8")).hexdigest(), sha256],
            )


@migrations()
def m009_conversation_turns(db: Database) -> None:
    """Follow-up turns: a run is a conversation, its prompt the first of its turns.

    `turns` holds each turn's prompt in order under its run (`turn` 0, 1, 2, …);
    every run written before this step gets its one turn 0 (its prompt, language and
    date: older runs are one turn). `responses.turn` says which turn an answer
    answers; every answer so far is turn 0's. Follow-up prompts (turn 1 on) are
    searchable in `turns_fts`, under the same rules as `runs_fts` (trigram, _PAD);
    turn 0's prompt is already in `runs_fts`. `turns` has no integer key of its own
    (its key is the run and turn), so the index keeps its own copy of the prompt
    (as notes_fts does), at rowid run_id * TURNS_PER_RUN + turn, not the table's
    rowid, which VACUUM may renumber.
    """
    script = f"""
    CREATE TABLE turns (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        turn INTEGER NOT NULL,
        prompt TEXT NOT NULL,
        language TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, turn)
    );
    INSERT INTO turns (run_id, turn, prompt, language, created_at)
        SELECT id, 0, prompt, language, created_at FROM runs;
    ALTER TABLE responses ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX responses_run_turn ON responses(run_id, turn, position);
    CREATE VIRTUAL TABLE turns_fts USING fts5(prompt, tokenize="trigram");
    CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns WHEN new.turn > 0 BEGIN
        INSERT INTO turns_fts(rowid, prompt) VALUES (new.run_id * {TURNS_PER_RUN} + new.turn, new.prompt || {_PAD});
    END;
    CREATE TRIGGER turns_fts_update AFTER UPDATE OF prompt ON turns WHEN new.turn > 0 BEGIN
        DELETE FROM turns_fts WHERE rowid = old.run_id * {TURNS_PER_RUN} + old.turn;
        INSERT INTO turns_fts(rowid, prompt) VALUES (new.run_id * {TURNS_PER_RUN} + new.turn, new.prompt || {_PAD});
    END;
    CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns WHEN old.turn > 0 BEGIN
        DELETE FROM turns_fts WHERE rowid = old.run_id * {TURNS_PER_RUN} + old.turn;
    END;
    """
    for statement in _statements(script):
        db.execute(statement)


@migrations()
def m010_batch_item_follow_ups(db: Database) -> None:
    """Scripted follow-ups in batches: an item asks its prompt, then each follow-up
    of its prompt-set entry (`then`) in the same run's conversation.

    `follow_ups` is the item's follow-ups as a JSON list of text, copied like
    `prompt` so a resume needs no set file (`[]` for every item before this step).
    `conversation_run_id` is the run holding the item's conversation once its first
    turn is complete, so a resume continues it instead of asking again; `run_id`
    keeps its meaning (set when the whole item is done). `follow_up_turns` is a JSON
    list: for each follow-up answered completely, in order, the run's turn that
    answers it (a turn a stop or a crash cut short stays in the run, answering none).
    """
    db.execute("ALTER TABLE batch_items ADD COLUMN follow_ups TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE batch_items ADD COLUMN conversation_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL")
    db.execute("ALTER TABLE batch_items ADD COLUMN follow_up_turns TEXT NOT NULL DEFAULT '[]'")


@migrations()
def m011_demo_step_follow_ups(db: Database) -> None:
    """Follow-ups in demo steps: a live step asks its prompt, then each follow-up in
    order, each model continuing its own conversation (as the window's Follow up does).

    `follow_ups` is the step's follow-ups as a JSON list of text, copied (like `prompt`)
    from the run or the prompt-set entry (`then`) the step was made from; `[]` for every
    step before this migration, which asks its prompt only, as it always did.
    """
    db.execute("ALTER TABLE demo_steps ADD COLUMN follow_ups TEXT NOT NULL DEFAULT '[]'")


@migrations()
def m012_batch_item_asking_run(db: Database) -> None:
    """A resumed batch item asks only the answers it lacks, in the run that asked it.

    `asking_run_id` is the run asking the item's prompt, set as soon as that run is
    created (before any model answers): a resume after a pause or a stop asks again,
    in that run's first turn, only the models whose answer there is not finished
    (not asked, stopped), instead of asking every model again in a new run. NULL for
    items not started, and for every item before this step (those are asked in a new
    run, as before).
    """
    db.execute("ALTER TABLE batch_items ADD COLUMN asking_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL")


def _statements(script: str) -> list[str]:
    """Split a script into statements for execute(): executescript() would
    COMMIT the migration's transaction halfway. Triggers contain semicolons,
    so a statement ends where sqlite3.complete_statement says it does."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    assert not current.strip(), f"unterminated SQL: {current!r}"
    return statements


def applied_names(db: Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]


def known_names() -> list[str]:
    """Every migration this workbench knows, in order (all are pending on an empty database)."""
    return [m.name for m in migrations.pending(Database(memory=True))]


def needs_upgrade(path: Path) -> bool:
    """True when the notebook at `path` exists and lacks a migration this workbench would apply.

    Asked before the notebook is opened (opening applies the migrations, which for a large
    notebook can take long), so that the window can say why it waits. Reads only: a file
    that is not a notebook, or cannot be read, is left for opening it properly to explain.
    Touches the disk: never on the GUI thread.
    """
    if not path.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            applied = {row[0] for row in conn.execute("select name from _sqlite_migrations")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return bool(set(known_names()) - applied)
