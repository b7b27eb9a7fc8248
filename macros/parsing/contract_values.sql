{#-
    The data contract's value rules, defined once. Staging models first clean every raw text
    column with `clean_text`, then parse the cleaned text with the macros below; anything that
    does not parse becomes null and the row is quarantined with a reason. The doc block
    `contract_value_rules` states the rules in words.

    Every `parse_*` macro expects text that is already cleaned (trimmed, blank as null).
-#}

{#- Text compared trimmed; blank becomes null. -#}
{% macro clean_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Trimmed, lowercased: how emails and channels are compared. -#}
{% macro normalize_text(expression) -%}
    lower({{ audience.clean_text(expression) }})
{%- endmacro %}

{#- Ids: ASCII digits, at most 18 of them (so they fit a bigint). -#}
{% macro parse_id(cleaned) -%}
    case
        when {{ audience.regex_matches(cleaned, '[0-9]{1,18}') }}
            then cast({{ cleaned }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#- Dates: YYYY-MM-DD that exists in the calendar, from year 0001. -#}
{% macro parse_date(cleaned) -%}
    case
        when {{ audience.regex_matches(cleaned, '[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
            and substring({{ cleaned }}, 1, 4) <> '0000'
            then {{ audience.safe_cast_date(cleaned) }}
    end
{%- endmacro %}

{#-
    Timestamps: ISO 8601 — `T` or a space, seconds and fraction optional, an optional `Z` or
    +HH:MM / -HH:MM offset. No offset means UTC; a bare date means midnight (UTC unless an
    offset follows). Hours 00-23, minutes and seconds 00-59, fractions beyond microseconds
    truncated. Returns the UTC instant as a timestamp without time zone.
-#}
{% macro iso_timestamp_pattern() -%}
    [0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?
{%- endmacro %}

{% macro parse_timestamp_utc(cleaned) -%}
    case
        when {{ audience.regex_matches(cleaned, audience.iso_timestamp_pattern()) }}
            and substring({{ cleaned }}, 1, 4) <> '0000'
            and {{ audience.safe_cast_date('substring(' ~ cleaned ~ ', 1, 10)') }} is not null
            then {{ adapter.dispatch('timestamp_text_to_utc', 'audience')(cleaned) }}
    end
{%- endmacro %}

{#-
    Converts text that matched `iso_timestamp_pattern` to the UTC instant. The default works
    on any engine from substrings and dbt's `dateadd`; DuckDB lets its own parser read the
    offset, after the text is given an explicit one.
-#}
{% macro default__timestamp_text_to_utc(text) -%}
    {%- set has_offset -%}
        substring({{ text }}, {{ dbt.length(text) }} - 5, 1) in ('+', '-')
    {%- endset -%}
    {%- set has_zulu -%}
        substring({{ text }}, {{ dbt.length(text) }}, 1) = 'Z'
    {%- endset -%}
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
    {{ dbt.dateadd('minute', '-1 * (' ~ offset_minutes ~ ')', 'cast(' ~ local_text ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}

{% macro duckdb__timestamp_text_to_utc(text) -%}
    {%- set with_time -%}
        case
            when {{ dbt.length(text) }} = 10 or substring({{ text }}, 11, 1) not in ('T', ' ')
                then substring({{ text }}, 1, 10) || ' 00:00:00' || substring({{ text }}, 11)
            else {{ text }}
        end
    {%- endset -%}
    make_timestamp(epoch_us(try_cast(
        case
            when substring({{ with_time }}, {{ dbt.length(with_time) }}, 1) = 'Z'
                or substring({{ with_time }}, {{ dbt.length(with_time) }} - 5, 1) in ('+', '-')
                then {{ with_time }}
            else {{ with_time }} || '+00:00'
        end
        as timestamptz
    )))
{%- endmacro %}

{#-
    Amounts: ASCII [+-]digits[.digits][e[+-]digits], finite, at least 0 and below 10^16, kept
    as an exact decimal (to 12 places; more are rounded half away from zero).

    The range is decided on the text, exactly: without an exponent, a value is below 10^16
    when its integer part has at most 16 digits after leading zeros, and a minus sign is only
    allowed on zero. With an exponent, a minus sign is only allowed on a zero mantissa and the
    value is compared as a 38-digit decimal with 20 places. An exponent form whose digits do
    not fit 38 significant digits cannot be held exactly and is rejected.
-#}
{% macro parse_amount(cleaned) -%}
    case
        when {{ audience.regex_matches(cleaned, '[+]?0*[0-9]{1,16}([.][0-9]+)?|-0+([.]0+)?') }}
            then {{ audience.safe_cast_amount(cleaned) }}
        when {{ audience.regex_matches(cleaned, '([+]?[0-9]+([.][0-9]+)?|-0+([.]0+)?)[eE][+-]?[0-9]+') }}
            and {{ audience.safe_cast_amount(cleaned, 20) }} >= 0
            and {{ audience.safe_cast_amount(cleaned, 20) }} < 10000000000000000
            then {{ audience.safe_cast_amount(cleaned) }}
    end
{%- endmacro %}

{#- is_active: true for 1/true/t/yes/y in any case, false for anything else. -#}
{% macro parse_flag(cleaned) -%}
    coalesce(lower({{ cleaned }}) in ('1', 'true', 't', 'yes', 'y'), false)
{%- endmacro %}

{#-
    Email addresses (already normalized): exactly one @, no whitespace, a non-empty local
    part, and a domain that contains a dot and neither starts nor ends with one.
-#}
{% macro is_valid_email(expression) -%}
    coalesce({{ audience.regex_matches(expression, '[^@[:space:]]+@[^@[:space:].][^@[:space:]]*[.][^@[:space:]]*[^@[:space:].]') }}, false)
{%- endmacro %}
