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

{#-
    PostgreSQL has no try_cast and a failed cast aborts the query, so the date is checked
    before it is cast: YYYY-MM-DD, year from 0001, month 01-12, a day that exists in that
    month (Gregorian leap years). PostgreSQL does not promise to evaluate `and` left to right,
    so every cast sits in the branch of a `case` whose condition made it safe. (PostgreSQL 16
    and later could ask `pg_input_is_valid()` instead.)
-#}
{% macro postgres__safe_cast_date(expression) -%}
    {%- set year = 'cast(substring(' ~ expression ~ ', 1, 4) as integer)' -%}
    {%- set month = 'cast(substring(' ~ expression ~ ', 6, 2) as integer)' -%}
    {%- set day = 'cast(substring(' ~ expression ~ ', 9, 2) as integer)' -%}
    case
        when {{ expression }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
            case
                when {{ year }} >= 1
                    and {{ month }} between 1 and 12
                    and {{ day }} between 1 and case
                        when {{ month }} in (4, 6, 9, 11) then 30
                        when {{ month }} <> 2 then 31
                        when ({{ year }} % 4 = 0 and {{ year }} % 100 <> 0) or {{ year }} % 400 = 0 then 29
                        else 28
                    end
                    then cast({{ expression }} as date)
            end
    end
{%- endmacro %}

{% macro safe_cast_amount(expression, scale=12) -%}
    {{ return(adapter.dispatch('safe_cast_amount', 'audience')(expression, scale)) }}
{%- endmacro %}

{% macro default__safe_cast_amount(expression, scale=12) -%}
    try_cast({{ expression }} as {{ audience.type_amount(scale) }})
{%- endmacro %}

{#-
    The same result as DuckDB's try_cast on every engine, for the SQL numeric literals (`.5`
    and `5.` included) with an optional exponent that reach it (checked value for value by
    tests/test_engines.py). Beyond
    the value fitting 38 digits, DuckDB's reader has three limits that these variants copy:
    the mantissa's integer digits (leading zeros aside) must fit the 38 - scale digits before
    the point; the exponent must read as -32768 to 32767 (leading zeros allowed); and unless
    the mantissa is zero, a positive exponent may not exceed 38 - scale plus the mantissa's
    fraction digits beyond the scale.

    PostgreSQL has no try_cast and a failed cast aborts the query: the value is cast to an
    unconstrained numeric (which holds any exponent from -2000 to 32767 for a text of at most
    1000 characters; below -2000 the value rounds to 0 anyway), rounded half away from zero to
    the scale, and is null when that does not fit 38 digits. Each cast sits in a `case` branch
    whose condition made it safe (PostgreSQL does not promise to evaluate `and` in order).
-#}
{% macro postgres__safe_cast_amount(expression, scale=12) -%}
    {%- set exponent_digits -%}
        coalesce(nullif(ltrim(substring({{ expression }} from '[eE][+-]?([0-9]+)$'), '0'), ''), '0')
    {%- endset -%}
    {%- set exponent -%}
        (case when {{ expression }} ~ '[eE]-' then -1 else 1 end) * cast({{ exponent_digits }} as integer)
    {%- endset -%}
    {%- set fraction_digits -%}
        coalesce(length(substring({{ expression }} from '[.]([0-9]+)')), 0)
    {%- endset -%}
    case
        when {{ expression }} ~ '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$'
            and length({{ expression }}) <= 1000
            and length(substring({{ expression }} from '^[+-]?0*([0-9]*)')) <= {{ 38 - scale }}
            and length({{ exponent_digits }}) <= 5 then
            case
                when {{ exponent }} not between -32768 and 32767 then null
                when {{ expression }} ~ '^[+-]?(0+([.]0*)?|[.]0+)([eE]|$)' then cast(0 as {{ audience.type_amount(scale) }})
                when {{ exponent }} > {{ 38 - scale }} + greatest(0, {{ fraction_digits }} - {{ scale }}) then null
                when {{ exponent }} < -2000 then cast(0 as {{ audience.type_amount(scale) }})
                when abs(round(cast({{ expression }} as numeric), {{ scale }})) < 1e{{ 38 - scale }}
                    then cast({{ expression }} as {{ audience.type_amount(scale) }})
            end
    end
{%- endmacro %}

{#- Spark's try_cast reads any exponent and mantissa exactly: only DuckDB's limits are added. -#}
{% macro spark__safe_cast_amount(expression, scale=12) -%}
    {%- set exponent = "try_cast(nullif(regexp_extract(" ~ expression ~ ", '[eE]([+-]?[0-9]+)$', 1), '') as int)" -%}
    {%- set has_exponent = "regexp_extract(" ~ expression ~ ", '[eE]([+-]?[0-9]+)$', 1) <> ''" -%}
    {%- set fraction_digits = "length(regexp_extract(" ~ expression ~ ", '[.]([0-9]+)', 1))" -%}
    case
        when length(regexp_extract({{ expression }}, '^[+-]?0*([0-9]*)', 1)) <= {{ 38 - scale }}
            and (
                not ({{ has_exponent }})
                or {{ exponent }} between -32768 and 32767
                and (
                    {{ expression }} rlike '^[+-]?(0+([.]0*)?|[.]0+)[eE]'
                    or {{ exponent }} <= {{ 38 - scale }} + greatest(0, {{ fraction_digits }} - {{ scale }})
                )
            )
            then try_cast({{ expression }} as {{ audience.type_amount(scale) }})
    end
{%- endmacro %}

{#- Exact amounts: 38 digits, 12 of them after the point (26 before: room for any total). -#}
{% macro type_amount(scale=12) -%}
    decimal(38, {{ scale }})
{%- endmacro %}

{% macro type_money() -%}
    decimal(38, 2)
{%- endmacro %}

{#-
    `sum()` of amounts, as `type_amount()`. DuckDB and Spark keep the decimal type of what they
    add up; PostgreSQL's sum of a numeric has no declared precision or scale, so it casts back.
-#}
{% macro sum_amount(expression) -%}
    {{ return(adapter.dispatch('sum_amount', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__sum_amount(expression) -%}
    sum({{ expression }})
{%- endmacro %}

{% macro postgres__sum_amount(expression) -%}
    cast(sum({{ expression }}) as {{ audience.type_amount() }})
{%- endmacro %}
