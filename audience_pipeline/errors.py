"""Errors the pipeline reports to people: each says what is wrong and where."""

from __future__ import annotations


class PipelineError(Exception):
    """A failure that stops the run before anything is published."""


class InputFileError(PipelineError):
    """A whole input file is unusable; names the file and, where known, the line and column."""

    def __init__(
        self, file: str, problem: str, line: int | None = None, column: str | None = None
    ) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        self.column = column
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}")


class ControlFailure(PipelineError):
    """A reconciliation control (a dbt test) failed, so the audience is not published."""


class UsageError(Exception):
    """A bad option value found after parsing; the command exits 2 as for argparse's errors."""
