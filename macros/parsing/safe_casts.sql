{#-
    Casts that return null instead of failing. Each is only ever applied to text that has
    already passed the contract's regular expression, so they guard against the cases a
    pattern cannot see: dates missing from the calendar and numbers out of range.
-#}

{% macro safe_cast_date(expression) -%}
    {{ return(adapter.dispatch('safe_cast_date', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__safe_cast_date(expression) -%}
    try_cast({{ expression }} as date)
{%- endmacro %}

{% macro safe_cast_amount(expression, scale=12) -%}
    {{ return(adapter.dispatch('safe_cast_amount', 'audience')(expression, scale)) }}
{%- endmacro %}

{% macro default__safe_cast_amount(expression, scale=12) -%}
    try_cast({{ expression }} as {{ audience.type_amount(scale) }})
{%- endmacro %}

{#- Exact amounts: 38 digits, 12 of them after the point (26 before: room for any total). -#}
{% macro type_amount(scale=12) -%}
    decimal(38, {{ scale }})
{%- endmacro %}

{% macro type_money() -%}
    decimal(38, 2)
{%- endmacro %}
