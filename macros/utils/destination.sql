{#-
    The destination a build is compared within: the runs published to it are its history
    (README, "Running it every day"). `var('destination')` or, when that is blank, the
    environment variable AUDIENCE_DESTINATION, which `audience run` sets (as for the as-of
    date, so dbt's partial parse survives a new destination). `audience run` names it: the
    output folder's resolved path, or `--destination NAME`. Blank (a plain `dbt build`): the
    build reads no history, so it has no previous run and every member has entered.
-#}
{% macro audience_destination() -%}
    {%- set configured = var('destination', '') | string -%}
    {%- if configured | trim in ('', 'None', 'none') -%}
        {%- set configured = env_var('AUDIENCE_DESTINATION', '') -%}
    {%- endif -%}
    {{ return(configured if configured | trim else '') }}
{%- endmacro %}

{#- The destination as a SQL string literal (quotes doubled), or a typed null when blank. -#}
{% macro audience_destination_literal() -%}
    {%- set destination = audience_destination() -%}
    {%- if destination -%}
        cast('{{ destination | replace("'", "''") }}' as {{ dbt.type_string() }})
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#-
    A table of the run history (source `history`, written by `audience run` after each
    publish), or an empty relation of the same shape when the build has no destination or the
    database has no history yet (a plain `dbt build` on the seeds, another engine).
    `columns` lists (name, type) pairs: the columns the caller reads. A column the table does
    not have yet (a database `audience run` has not migrated since the column was added) reads
    as null, as it does for the runs recorded before it.
-#}
{% macro history_or_empty(table_name, columns) -%}
    {%- set relation = source('history', table_name) -%}
    {%- set existing = load_relation(relation) if execute and audience_destination() else none -%}
    {%- if existing is not none -%}
        {%- set present = adapter.get_columns_in_relation(existing)
            | map(attribute='name') | map('lower') | list -%}
        (select
        {%- for name, type in columns %}
            {% if name | lower in present -%}
                {{ name }}
            {%- else -%}
                cast(null as {{ type }}) as {{ name }}
            {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ existing }})
    {%- else -%}
        (select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false)
    {%- endif -%}
{%- endmacro %}

{#-
    What the run history keeps of each published audience (`run_audience`): every column of
    `eligible_audience`, per member and run, as the campaign platform received it.
-#}
{% macro published_audiences() -%}
    {{ return(audience.history_or_empty('run_audience', [
        ('run_id', 'integer'),
        ('customer_id', dbt.type_bigint()),
        ('email', dbt.type_string()),
        ('first_name', dbt.type_string()),
        ('home_state', dbt.type_string()),
        ('loyalty_tier', dbt.type_string()),
        ('bookings_last_365_days', dbt.type_bigint()),
        ('total_spend_last_365_days', audience.type_money()),
        ('last_booking_date', 'date'),
    ])) }}
{%- endmacro %}
