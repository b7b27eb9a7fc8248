{#-
    Loading the seeds on Spark. These replace two macros of dbt-spark 1.11 for this project:

    - dbt-spark's session method pastes each value into the SQL as '<value>': a blank cell
      becomes the text 'None', and quotes and backslashes are not escaped. Here every value is
      an escaped literal and a blank cell is null, as on DuckDB and PostgreSQL.
    - The seeds' `column_types` say `varchar`, which Spark refuses without a length: text
      types become `string`.
    - The rows go in with one statement whose rows are coalesced into one partition, so the
      table is one file in CSV order and `seed_row_number()` reads every row's line from it.

    The seeds are the committed sample (a few hundred rows): data of any size belongs in
    tables the warehouse already has (`raw_input: warehouse`), not in seeds.
-#}

{% macro spark_seed_column_type(model, agate_table, column_index) -%}
    {%- set column_name = agate_table.column_names[column_index] -%}
    {%- set inferred_type = adapter.convert_type(agate_table, column_index) -%}
    {%- set column_type = model['config'].get('column_types', {}).get(column_name, inferred_type) -%}
    {{- 'string' if column_type | lower | trim in ('varchar', 'text', 'character varying') else column_type -}}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}

    {% set sql %}
        create table {{ this.render() }} (
            {%- for column_name in agate_table.column_names -%}
                {{ adapter.quote_seed_column(column_name | string, quote_seed_column) }}
                {{ audience.spark_seed_column_type(model, agate_table, loop.index0) }}
                {%- if not loop.last -%}, {%- endif -%}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
        {{ partition_cols(label="partitioned by") }}
        {{ clustered_cols(label="clustered by") }}
        {{ location_clause() }}
        {{ comment_clause() }}
    {% endset %}

    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}

    {{ return(sql) }}
{% endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do column_types.append(audience.spark_seed_column_type(model, agate_table, loop.index0)) -%}
    {%- endfor -%}

    {% set sql %}
        insert into {{ this.render() }}
        select /*+ COALESCE(1) */ * from values
        {%- for row in agate_table.rows %}
            (
                {%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ column_types[loop.index0] }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ column_types[loop.index0] }})
                    {%- endif -%}
                    {{- ", " if not loop.last -}}
                {%- endfor -%}
            ){{ "," if not loop.last }}
        {%- endfor %}
    {% endset %}

    {% if agate_table.rows | length > 0 %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
    {% endif %}

    {{ return(sql) }}
{% endmacro %}
