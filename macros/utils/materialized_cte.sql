{#-
    `name as {{ materialized_cte() }} (...)`: asks the engine to compute a CTE once when later
    CTEs read it several times (the staging models read their parsed rows three times: to find
    repeated fingerprints, to compare candidates, and to mark duplicates). DuckDB and
    PostgreSQL accept the hint; elsewhere it renders to nothing and the engine decides.
-#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'audience')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro postgres__materialized_cte() -%}
    materialized
{%- endmacro %}
