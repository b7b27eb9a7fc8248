{#-
    Enforced contracts on Spark. dbt checks a contract by selecting `cast(null as <data_type>)`
    for every declared column; the contracts declare text as `varchar`, which Spark refuses
    without a length. Spark's text type is `string`, so that is what it is checked as. Every
    other type is checked as declared (replaces dbt's default for Spark only).
-#}
{% macro spark__get_empty_schema_sql(columns) %}
    {%- set col_err = [] -%}
    select
    {% for i in columns %}
        {%- set col = columns[i] -%}
        {%- if col['data_type'] is not defined -%}
            {%- do col_err.append(col['name']) -%}
        {%- endif -%}
        {%- set data_type = col.get('data_type') or '' -%}
        {%- set data_type = 'string' if data_type | lower | trim in ('varchar', 'text', 'character varying') else data_type -%}
        {%- set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] -%}
        {{ cast('null', data_type) }} as {{ col_name }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- if (col_err | length) > 0 -%}
        {{ exceptions.column_type_missing(column_names=col_err) }}
    {%- endif -%}
{% endmacro %}
