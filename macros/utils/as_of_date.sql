{#-
    The as-of date every time-dependent rule uses, as a SQL date literal.
    Set it with `--vars '{as_of_date: YYYY-MM-DD}'` or, when that var is blank, the environment
    variable AUDIENCE_AS_OF_DATE; neither means today in UTC. `audience run` uses the
    environment variable: a new date then re-parses only what reads it, where a new `--vars`
    value would make dbt parse the whole project again.
-#}
{% macro as_of_date() -%}
    {%- set configured = var('as_of_date') | string | trim -%}
    {%- if configured in ('', 'None', 'none') -%}
        {%- set configured = env_var('AUDIENCE_AS_OF_DATE', '') | trim -%}
    {%- endif -%}
    {%- if configured in ('', 'None', 'none') -%}
        {%- set configured = modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', configured) -%}
        {{ exceptions.raise_compiler_error("var('as_of_date') must be YYYY-MM-DD, not '" ~ configured ~ "'") }}
    {%- endif -%}
    cast('{{ configured }}' as date)
{%- endmacro %}
