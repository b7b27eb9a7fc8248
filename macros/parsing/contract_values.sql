{#-
    The data contract's value rules, defined once. Staging models call these to parse raw
    text; anything that does not parse becomes null and the row is quarantined with a reason.
    See the doc block `contract_value_rules` for the rules in words.
-#}

{#- Text compared trimmed; blank becomes null. -#}
{% macro clean_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Trimmed, lowercased: how emails and channels are compared. -#}
{% macro normalize_text(expression) -%}
    lower({{ audience.clean_text(expression) }})
{%- endmacro %}

{#- Ids: ASCII digits, at most 18 of them (so they fit a bigint); surrounding spaces allowed. -#}
{% macro parse_id(expression) -%}
    case
        when {{ audience.regex_matches(audience.clean_text(expression), '[0-9]{1,18}') }}
            then cast({{ audience.clean_text(expression) }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#- Dates: YYYY-MM-DD that exists in the calendar. -#}
{% macro parse_date(expression) -%}
    case
        when {{ audience.regex_matches(audience.clean_text(expression), '[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
            then {{ audience.safe_cast_date(audience.clean_text(expression)) }}
    end
{%- endmacro %}

{#-
    Timestamps: ISO 8601, `T` or space, seconds and fraction optional, optional `Z` or
    +HH:MM / -HH:MM offset. No offset means UTC; a bare date means midnight UTC. Returns the
    UTC instant as a timestamp without time zone.
-#}
{% macro parse_timestamp_utc(expression) -%}
    {%- set text = audience.clean_text(expression) -%}
    {%- set has_offset = audience.regex_matches(text, '.*[+-][0-9]{2}:[0-9]{2}') -%}
    {%- set has_zulu = audience.regex_matches(text, '.*Z') -%}
    {%- set body -%}
        case
            when {{ has_zulu }} then substring({{ text }}, 1, {{ dbt.length(text) }} - 1)
            when {{ has_offset }} then substring({{ text }}, 1, {{ dbt.length(text) }} - 6)
            else {{ text }}
        end
    {%- endset -%}
    {%- set offset_minutes -%}
        case
            when {{ has_offset }}
                then (case when substring({{ text }}, {{ dbt.length(text) }} - 5, 1) = '-' then -1 else 1 end)
                    * (
                        cast(substring({{ text }}, {{ dbt.length(text) }} - 4, 2) as integer) * 60
                        + cast(substring({{ text }}, {{ dbt.length(text) }} - 1, 2) as integer)
                    )
            else 0
        end
    {%- endset -%}
    {%- set local_text -%}
        substring({{ body }}, 1, 10)
        || ' '
        || case when {{ dbt.length(body) }} > 10 then substring({{ body }}, 12, 5) else '00:00' end
        || ':'
        || case when {{ dbt.length(body) }} >= 19 then substring({{ body }}, 18, 2) else '00' end
        || case when {{ dbt.length(body) }} > 19 then substring({{ body }}, 20, 7) else '' end
    {%- endset -%}
    case
        when {{ audience.regex_matches(text, '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?') }}
            and {{ audience.safe_cast_date('substring(' ~ text ~ ', 1, 10)') }} is not null
            and ({{ dbt.length(body) }} = 10 or (
                cast(substring({{ body }}, 12, 2) as integer) <= 23
                and cast(substring({{ body }}, 15, 2) as integer) <= 59
                and ({{ dbt.length(body) }} < 19 or cast(substring({{ body }}, 18, 2) as integer) <= 59)
            ))
            and (not {{ has_offset }} or (
                cast(substring({{ text }}, {{ dbt.length(text) }} - 4, 2) as integer) <= 23
                and cast(substring({{ text }}, {{ dbt.length(text) }} - 1, 2) as integer) <= 59
            ))
            then {{ dbt.dateadd('minute', '-1 * (' ~ offset_minutes ~ ')', 'cast(' ~ local_text ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}
    end
{%- endmacro %}

{#-
    Amounts: ASCII [+-]digits[.digits][e[+-]digits], finite, at least 0 and below 10^16.
    The value is kept exactly as a decimal.
-#}
{% macro parse_amount(expression) -%}
    {%- set text = audience.clean_text(expression) -%}
    case
        when {{ audience.regex_matches(text, '[+-]?[0-9]+([.][0-9]+)?([eE][+-]?[0-9]+)?') }}
            and {{ audience.safe_cast_amount(text) }} >= 0
            and {{ audience.safe_cast_amount(text) }} < 10000000000000000
            then {{ audience.safe_cast_amount(text) }}
    end
{%- endmacro %}

{#- is_active: true for 1/true/t/yes/y in any case, false for anything else. -#}
{% macro parse_flag(expression) -%}
    coalesce({{ audience.normalize_text(expression) }} in ('1', 'true', 't', 'yes', 'y'), false)
{%- endmacro %}

{#-
    Email addresses (already normalized): exactly one @, no whitespace, a non-empty local
    part, and a domain that contains a dot and neither starts nor ends with one.
-#}
{% macro is_valid_email(expression) -%}
    coalesce({{ audience.regex_matches(expression, '[^@[:space:]]+@[^@[:space:].][^@[:space:]]*[.][^@[:space:]]*[^@[:space:].]') }}, false)
{%- endmacro %}
