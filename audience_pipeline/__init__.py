"""Eligible email audience from flat-file exports, as a dbt project on DuckDB."""

__version__ = "1.1.0"
