{#-
    The data contract's value rules, defined once. Staging models first clean every raw text
    column with `clean_text` (a contract column through `clean_field`), then parse the cleaned
    text with the macros below; anything that does not parse becomes null and the row is
    quarantined with a reason. The doc block `contract_value_rules` states the rules in words.

    Every `parse_*` macro expects text that is already cleaned (trimmed, blank as null).
-#}

{#- Text compared trimmed; blank becomes null. -#}
{% macro clean_text(expression) -%}
    nullif({{ audience.trim_spaces(expression) }}, '')
{%- endmacro %}

{#-
    A field of a base row, cleaned by `clean_text`. On a line the split found unpadded
    (`is_unpadded_line`: no quote, ASCII only, no space at either end or beside a delimiter)
    no field can start or end with a space character, so there a blank only becomes null and
    the trim (which reads every character of every value: more time than splitting the line)
    is skipped. Where the flag is null (a unit test's input row that does not give it), every
    value goes through `clean_text`.
-#}
{% macro clean_field(column) -%}
    case
        when is_unpadded_line then nullif({{ column }}, '')
        else {{ audience.clean_text(column) }}
    end
{%- endmacro %}

{#-
    `expression` without the space characters at either end: the Unicode space separators
    (category Zs: the space, the no-break space U+00A0, the en, em and thin spaces U+2000-U+200A,
    the narrow no-break space U+202F, the ideographic space U+3000 and the others below), so a
    value padded by a spreadsheet matches its plain form (a suppressed address, a consent
    event's customer). Tabs, line breaks and zero-width characters are not spaces: they stay,
    and make an id, date or email invalid. DuckDB's `trim` strips exactly these characters;
    PostgreSQL's and Spark's strip only U+0020 unless told which, so they are listed.
-#}
{% macro trim_spaces(expression) -%}
    {{ return(adapter.dispatch('trim_spaces', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__trim_spaces(expression) -%}
    {%- set space_separators = [
        ' ', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005',
        '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u202f', '\u205f', '\u3000',
    ] -%}
    {{ audience.trim_chars(expression, space_separators | join('')) }}
{%- endmacro %}

{% macro duckdb__trim_spaces(expression) -%}
    trim({{ expression }})
{%- endmacro %}

{#-
    Ids: ASCII digits, at most 18 of them after any leading zeros (so they fit a bigint):
    `00000000000000000101` is customer 101, as `' 012 '` is customer 12.
-#}
{% macro parse_id(cleaned) -%}
    case
        when {{ audience.regex_matches(cleaned, '0*[0-9]{1,18}') }}
            then cast({{ cleaned }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#-
    The customer an unreadable id may name: given the cleaned text and what `parse_id` made of
    it, the first run of ASCII digits of text that is not a valid id, read as an id (`1157.0`,
    `C-1157`, `#1157`, ` 1157a` name 1157); a run grouped in threes by commas, dots,
    apostrophes or spaces is read without them (`1,157`, `"1,157"`, `1.157`, `1'157` and
    `1 157` name 1157, not 1), and fullwidth or Arabic-Indic digits are
    read as theirs (`１１５７` names 1157); null when the text is blank, a valid id, or holds no
    such run. A byte that is not valid in the file's encoding does not hide the id around it
    (`\xa01157` names 1157): on DuckDB such a byte is written `\xNN`, whose hex digits are not
    the id's, so each escape is read as a space first (Spark reads the byte as U+FFFD, which no
    digit run crosses either). A line that cannot be split has no fields here (its salvaged
    readings name whom it may name). Never used as a value: a rejected opt-out or suppression
    whose id cannot be read still excludes whoever it may name (rules 1 and 7), and a wrong
    reading can only exclude someone, never publish them. Only the few rows whose id is invalid
    read the expression.
-#}
{% macro id_in_digits(cleaned, parsed) -%}
    case
        when {{ parsed }} is null and {{ cleaned }} is not null
            then {{ audience.digits_as_id(cleaned) }}
    end
{%- endmacro %}

{#-
    The customer a consent row whose columns were swapped may name: given the row's cleaned
    event_id, its cleaned customer_id and what `parse_id` made of the latter, the event_id read
    as an id when the customer_id is not blank but cannot be read and the event_id is a valid
    id (`1157,CE-500191,...`: the event's id sits where the customer's would, and the
    customer's where the event's would); null otherwise. Never used as a value: such a row
    is rejected (invalid customer_id) and still holds whoever it may name (rule 1); a wrong
    reading can only exclude someone, never publish them.
-#}
{% macro id_in_event_id(event_id, cleaned, parsed) -%}
    case
        when {{ parsed }} is null and {{ cleaned }} is not null
            then {{ audience.parse_id(event_id) }}
    end
{%- endmacro %}

{#- The first run of digits of `cleaned`, read as an id (what `id_in_digits` reads). -#}
{% macro digits_as_id(cleaned) -%}
    {{ audience.parse_id(audience.first_digit_run(
        audience.ascii_digits(audience.without_byte_escapes(cleaned))
    )) }}
{%- endmacro %}

{#-
    The customer a piece of a line that cannot be split may name, where its customer_id would
    sit: the piece read as an id, else, when it is shaped like a mangled id (a run of digits,
    commas or spaces among them or another character before three digits, with at most three
    non-digits before it and three characters after it: `1157.0`, `C-1157`, `#1157`, `="1157`,
    `1157a`, `1.157`), the one its first run of digits names
    (`digits_as_id`). Another
    field that shifted there (an address, a date) names nobody, so a broken line does not hold
    whoever the digits of its neighbours name; what it holds, doubt allows.
-#}
{% macro id_or_id_in_digits(cleaned) -%}
    coalesce({{ audience.parse_id(cleaned) }}, {{ audience.id_in_mangled_id(cleaned, 'null') }})
{%- endmacro %}

{#-
    The customer an unreadable id shaped like a mangled id names (`mangled_id_pattern`: `C-1122`,
    `1122.0`, `12a`), in its first run of digits (`digits_as_id`), when `parsed` (what
    `parse_id` made of it) is null; null otherwise, and for a date or an address (`2026-06-01`
    names nobody, where `id_in_digits` reads 2026). Narrower than `id_in_digits`: what a
    rejected customers row makes a customer of, not only whom it holds.
-#}
{% macro id_in_mangled_id(cleaned, parsed) -%}
    case
        when {{ parsed }} is null and {{ audience.regex_matches(
            audience.ascii_digits(audience.without_byte_escapes(cleaned)),
            audience.mangled_id_pattern(),
        ) }}
            then {{ audience.digits_as_id(cleaned) }}
    end
{%- endmacro %}

{#-
    The other customer an unreadable id may name when it could be an id written with three
    decimals, all zeros (`157.000`, `157,000`, `"157.000"`, `C-157,000`: one to three digits, a
    dot or a comma and `000`, with at most three non-digits before and after): the digits before
    the separator (157), where `digits_as_id` reads thousands (157000). Both readings hold: doubt
    about whom a row names excludes both. Null when `parsed` (what `parse_id` made of the text)
    is not null, and for any other text (`1.157`, `157.000.000`, `1,157.000` have one reading).
-#}
{% macro id_before_zero_decimals(cleaned, parsed) -%}
    case
        when {{ parsed }} is null and {{ audience.regex_matches(
            audience.ascii_digits(audience.without_byte_escapes(cleaned)),
            '[^0-9]{0,3}[0-9]{1,3}[.,]000[^0-9]{0,3}',
        ) }}
            then cast({{ audience.digits_as_id(cleaned) }} / 1000 as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#-
    A checked row's reading with three zero decimals (`id_before_zero_decimals`): of its
    customer_id when it cannot be read, else, on a line that cannot be split, of the piece
    salvaged from the line's start (the staging column `customer_id_before_zero_decimals`),
    from the staging models' `customer_id_text`, `customer_id` and `salvaged_customer_id_text`.
-#}
{% macro row_id_before_zero_decimals() -%}
    coalesce(
        {{ audience.id_before_zero_decimals('customer_id_text', 'customer_id') }},
        {{ audience.id_before_zero_decimals('salvaged_customer_id_text', 'null') }}
    )
{%- endmacro %}

{#-
    The same reading of the piece a line that cannot be split salvaged from its end (the
    staging column `customer_id_before_zero_decimals_from_end`), as `salvaged_customer_id` and
    `salvaged_customer_id_from_end` are read apart: a line names every reading of both pieces
    (`1.000,157.000,...`, a field too many, names 1 from its start and 157 from its end).
-#}
{% macro row_id_before_zero_decimals_from_end() -%}
    {{ audience.id_before_zero_decimals('salvaged_customer_id_from_end_text', 'null') }}
{%- endmacro %}

{#-
    The customer a line that cannot be split names where a thousands separator may have cut its
    id (`salvaged_customer_id_uncut`: its pieces from where its customer_id would sit to its
    end, rejoined by commas) when that text begins with an id grouped in threes by commas (one
    to three digits, then a comma and three digits at least once, at most three other
    characters before and after), followed by nothing or by a comma and the line's other
    fields: `157,000`, `1,157,000,a@x.com,Smith`, `C-157,000,,hard_bounce`, `1,157,000",,...`
    name the id its digits name (`digits_as_id`: 157000 and 1157000, where the pieces on their
    own name 157 and 0, or 1, 157 and 0). Null for any other text (`157,Sm`,
    `157,2026-01-01`, `1157,000`), so a neighbouring field's digits name nobody. A next field
    of exactly three digits would read as part of the id (`157,000,123` names 157000123).
-#}
{% macro id_in_uncut_text(cleaned) -%}
    case
        when {{ audience.regex_matches(
            audience.ascii_digits(audience.without_byte_escapes(cleaned)),
            '[^0-9]{0,3}[0-9]{1,3}(?:,[0-9]{3})+[^0-9,]{0,3}(?:,[^,]*)*',
        ) }}
            then {{ audience.digits_as_id(cleaned) }}
    end
{%- endmacro %}

{#- A piece shaped like a mangled id (see `id_or_id_in_digits`). -#}
{% macro mangled_id_pattern() -%}
    {{ return('[^0-9]{0,3}[0-9](?:[0-9, \u00a0\u202f\u2009]|[^0-9][0-9]{3})*.{0,3}') }}
{%- endmacro %}

{#- `expression` with the fullwidth (`１２`) and Arabic-Indic (`١٢`, `۱۲`) digits read as
    ASCII digits, and the fullwidth comma (`１，１５７`) and the Arabic thousands separator
    (`١٬١٥٧`) as a comma (translate, on every engine): a spreadsheet or a keyboard may write an
    id so. -#}
{% macro ascii_digits(expression) -%}
    translate(
        {{ expression }},
        '０１２３４５６７８９٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹，٬',
        '012345678901234567890123456789,,'
    )
{%- endmacro %}

{#-
    `expression` with each escape of a bad byte (`\xNN`, written by the DuckDB pre-step) read
    as a space. Spark reads a bad byte as U+FFFD and a warehouse holds text, so neither escapes,
    but the same reading everywhere gives every engine the same digits for the same text.
-#}
{% macro without_byte_escapes(expression) -%}
    {{ audience.regex_replace_all(expression, audience.sql_string('\\\\x[0-9a-f]{2}'), "' '") }}
{%- endmacro %}

{#- `expression` without the separators a name may be written with: `e-mail`, `e_mail`,
    `e.mail` and `e mail` read `email`. -#}
{% macro without_separators(expression) -%}
    replace(replace(replace(replace({{ expression }}, '-', ''), '_', ''), '.', ''), ' ', '')
{%- endmacro %}

{#-
    Text shaped like an address: a run of characters on each side of one `@`, none of them a
    space, tab, `@`, angle bracket, parenthesis, quote, comma, semicolon, colon or U+FFFD
    (Spark's reading of a bad byte). `"Jane" <a@x.com>`, `mailto:a@x.com` and
    `a@x.com; b@x.com, c@x.com` hold a@x.com (and b@x.com and c@x.com).
-#}
{% macro address_pattern() -%}
    {%- set outside = '[^@' ~ audience.address_separators() ~ ']' -%}
    {{ return(outside ~ '+@' ~ outside ~ '+') }}
{%- endmacro %}

{#- The characters besides `@` that no address holds (inside a regular expression's class),
    the invisible ones among them: the zero-width space, non-joiner and joiner, the word joiner
    and the byte order mark (`a@x.com` followed by U+200B is a@x.com). -#}
{% macro address_separators() -%}
    {{ return(' \t\r<>()",;:\'\ufffd\u200b\u200c\u200d\u2060\ufeff') }}
{%- endmacro %}

{#- `@`s that cannot join two parts of an address, read as a space: two or more in a row
    (`a@b@@c@d`), and those that begin a word (`@a@b`, `<@a@b>`); the separator before them
    reads as a space too, which it already was. Without them the two passes of `addresses_in`
    start at the same part and skip every other pair. -#}
{% macro lone_at_signs_pattern() -%}
    {{ return(audience.sql_string('@@+|(^|[' ~ audience.address_separators() ~ '])@+')) }}
{%- endmacro %}

{#- Every address written in `expression` (`address_pattern()`), read twice left to right,
    once its lone `@`s read as spaces (`lone_at_signs_pattern()`): from the start, and from
    each `@` that begins a match, so where `@`s run together every two neighbouring parts are
    read (`a@b@c.com` holds a@b and b@c.com, `@a@b@c` a@b and b@c); distinct, sorted by their
    bytes, joined by single spaces (no address holds one); null when there is none. -#}
{% macro addresses_in(expression) -%}
    {{ return(adapter.dispatch('addresses_in', 'audience')(expression)) }}
{%- endmacro %}

{% macro addresses_pattern_pair() -%}
    {{ return([
        audience.sql_string('(' ~ audience.address_pattern() ~ ')'),
        audience.sql_string('@(' ~ audience.address_pattern() ~ ')'),
    ]) }}
{%- endmacro %}

{#- DuckDB and Spark: each engine's list functions through the dispatched helpers. -#}
{% macro default__addresses_in(expression) -%}
    {%- set patterns = audience.addresses_pattern_pair() -%}
    {%- set expression = audience.regex_replace_all(expression, audience.lone_at_signs_pattern(), "' '") -%}
    nullif(
        {{ audience.list_join(audience.list_sorted_union(
            audience.regex_extract_matches(expression, patterns[0], 1),
            audience.regex_extract_matches(expression, patterns[1], 1),
        ), ' ') }},
        ''
    )
{%- endmacro %}

{% macro postgres__addresses_in(expression) -%}
    {%- set patterns = audience.addresses_pattern_pair() -%}
    {%- set expression = audience.regex_replace_all(expression, audience.lone_at_signs_pattern(), "' '") -%}
    nullif(
        array_to_string(
            array(
                select found.address
                from (
                    select (regexp_matches({{ expression }}, {{ patterns[0] }}, 'g'))[1] as address
                    union
                    select (regexp_matches({{ expression }}, {{ patterns[1] }}, 'g'))[1] as address
                ) as found
                order by found.address collate "C"
            ),
            ' '
        ),
        ''
    )
{%- endmacro %}

{#- One row per space-separated word of `expression` (a text `addresses_in()` wrote), as a
    column of the select it is in. -#}
{% macro words_of(expression) -%}
    {{ return(adapter.dispatch('words_of', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__words_of(expression) -%}
    unnest(string_split({{ expression }}, ' '))
{%- endmacro %}

{% macro spark__words_of(expression) -%}
    explode(split({{ expression }}, ' '))
{%- endmacro %}

{% macro postgres__words_of(expression) -%}
    unnest(string_to_array({{ expression }}, ' '))
{%- endmacro %}

{% macro first_digit_run(expression) -%}
    {{ return(adapter.dispatch('first_digit_run', 'audience')(expression)) }}
{%- endmacro %}

{#- A run of digits, or of groups of three digits after a first group of one to three
    separated all by commas, all by dots, all by apostrophes (`'` or `’`) or all by spaces
    (`1,103`, `1.103` as German exports write thousands, `1'103` as Swiss ones do, `1 103` with
    a space, a no-break, narrow no-break or thin space, as French ones do; a bad byte's escape
    reads as a space, so cp1252's no-break space does too), and what follows it (not a digit);
    read without the separators and what follows. One kind of separator per run, so
    `1,157.00` is 1157, not 115700; `157.000` reads as thousands, 157000 (the reading with three
    decimals, 157, is `id_before_zero_decimals`). At the first digit, the grouped
    forms are tried first (leftmost-first on DuckDB and Spark; on PostgreSQL the longest match,
    which is the same one). -#}
{% macro digit_run_pattern() -%}
    {%- set groups = [',', '[.]', "['\u2019]", '[ \u00a0\u202f\u2009]'] -%}
    {%- set grouped = [] -%}
    {%- for separator in groups -%}
        {%- do grouped.append('[0-9]{1,3}(?:' ~ separator ~ '[0-9]{3})+(?:[^0-9]|$)') -%}
    {%- endfor -%}
    {{ return((grouped + ['[0-9]+']) | join('|')) }}
{%- endmacro %}

{#- DuckDB and Spark: the pattern as group 1, which both engines' `regexp_extract` take (the
    pattern quoted by `sql_string`: it holds an apostrophe). -#}
{% macro default__first_digit_run(expression) -%}
    {%- set run = 'regexp_extract(' ~ expression ~ ', ' ~ audience.sql_string('(' ~ audience.digit_run_pattern() ~ ')') ~ ', 1)' -%}
    nullif({{ audience.regex_replace_all(run, "'[^0-9]'", "''") }}, '')
{%- endmacro %}

{% macro postgres__first_digit_run(expression) -%}
    {%- set run = 'substring(' ~ expression ~ ' from ' ~ audience.sql_string(audience.digit_run_pattern()) ~ ')' -%}
    {{ audience.regex_replace_all(run, "'[^0-9]'", "''") }}
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
            then {{ adapter.dispatch('timestamp_text_to_utc', 'audience')(cleaned) }}
    end
{%- endmacro %}

{#-
    The offset of text that matched `iso_timestamp_pattern`, in minutes east of UTC: the last
    six characters when they read `+HH:MM` or `-HH:MM`, otherwise 0 (`Z` or no offset).
-#}
{% macro timestamp_offset_minutes(text) -%}
    case
        when substring({{ text }}, {{ dbt.length(text) }} - 2, 1) = ':'
            and substring({{ text }}, {{ dbt.length(text) }} - 5, 1) in ('+', '-')
            then (case when substring({{ text }}, {{ dbt.length(text) }} - 5, 1) = '-' then -1 else 1 end)
                * (
                    cast(substring({{ text }}, {{ dbt.length(text) }} - 4, 2) as integer) * 60
                    + cast(substring({{ text }}, {{ dbt.length(text) }} - 1, 2) as integer)
                )
        else 0
    end
{%- endmacro %}

{#-
    Converts text that matched `iso_timestamp_pattern` to the UTC instant, or null when its
    date is not in the calendar. The default works on any engine from substrings and dbt's
    `dateadd`; DuckDB's timestamp cast reads the local date and time (ignoring the offset), so
    its variant only subtracts the offset.
-#}
{% macro default__timestamp_text_to_utc(text) -%}
    {%- set has_time -%}
        ({{ dbt.length(text) }} > 10 and substring({{ text }}, 11, 1) in ('T', ' '))
    {%- endset -%}
    {%- set time_end -%}
        ({{ dbt.length(text) }} - case
            when substring({{ text }}, {{ dbt.length(text) }}, 1) = 'Z' then 1
            when substring({{ text }}, {{ dbt.length(text) }} - 2, 1) = ':'
                and substring({{ text }}, {{ dbt.length(text) }} - 5, 1) in ('+', '-') then 6
            else 0
        end)
    {%- endset -%}
    {%- set local_text -%}
        substring({{ text }}, 1, 10)
        || ' '
        || case when {{ has_time }} then substring({{ text }}, 12, 5) else '00:00' end
        || ':'
        || case when {{ has_time }} and {{ time_end }} >= 19 then substring({{ text }}, 18, 2) else '00' end
        || case
            when {{ has_time }} and {{ time_end }} > 19
                then substring({{ text }}, 20, least({{ time_end }} - 19, 7))
            else ''
        end
    {%- endset -%}
    case
        when {{ audience.safe_cast_date('substring(' ~ text ~ ', 1, 10)') }} is not null
            then {{ dbt.dateadd(
                'minute',
                '-1 * (' ~ audience.timestamp_offset_minutes(text) ~ ')',
                'cast(' ~ local_text ~ ' as ' ~ dbt.type_timestamp() ~ ')',
            ) }}
    end
{%- endmacro %}

{% macro duckdb__timestamp_text_to_utc(text) -%}
    (
        case
            when substring({{ text }}, 11, 1) in ('T', ' ') then try_cast({{ text }} as timestamp)
            else try_cast(substring({{ text }}, 1, 10) as timestamp)
        end
        - to_minutes({{ audience.timestamp_offset_minutes(text) }})
    )
{%- endmacro %}

{#-
    Spark reads the local date and time as a timestamp without time zone (null when the date is
    not in the calendar; fractions beyond microseconds truncated) and subtracts the offset, so
    the session's time zone never enters.
-#}
{% macro spark__timestamp_text_to_utc(text) -%}
    timestampadd(
        minute,
        -1 * ({{ audience.timestamp_offset_minutes(text) }}),
        try_cast(regexp_replace({{ text }}, '(Z|[+-][0-9]{2}:[0-9]{2})$', '') as timestamp_ntz)
    )
{%- endmacro %}

{#-
    Amounts: ASCII SQL numeric literals, [+-]mantissa[e[+-]digits] where the mantissa is
    digits[.[digits]] or .digits (`12.50`, `.5`, `5.`, `1.5e2`; not `.`, `5..0`, `+.`, `e5`),
    finite, at least 0 and below 10^16, kept as an exact decimal (to 12 places; more are
    rounded half away from zero).

    The range is decided on the text, exactly: without an exponent, a value is below 10^16
    when its integer part has at most 16 digits after leading zeros, and a minus sign is only
    allowed on zero. With an exponent, a minus sign is only allowed on a zero mantissa and the
    value is compared as a 38-digit decimal with 20 places. An exponent form whose digits do
    not fit 38 significant digits cannot be held exactly and is rejected.
-#}
{% macro parse_amount(cleaned) -%}
    {%- set parsed -%}
    case
        when {{ audience.regex_matches(cleaned, '[+]?(0*[0-9]{1,16}([.][0-9]*)?|[.][0-9]+)|-(0+([.]0*)?|[.]0+)') }}
            then {{ audience.safe_cast_amount(cleaned) }}
        when {{ audience.regex_matches(cleaned, '([+]?([0-9]+([.][0-9]*)?|[.][0-9]+)|-(0+([.]0*)?|[.]0+))[eE][+-]?[0-9]+') }}
            and {{ audience.safe_cast_amount(cleaned, 20) }} >= 0
            and {{ audience.safe_cast_amount(cleaned, 20) }} < 10000000000000000
            then {{ audience.safe_cast_amount(cleaned) }}
    end
    {%- endset -%}
    {{ adapter.dispatch('typed_amount', 'audience')(parsed) }}
{%- endmacro %}

{#-
    The parsed amount as `type_amount()`. PostgreSQL forgets a numeric's precision and scale
    at a `case`, so it casts the result back; elsewhere the expression is left as it is.
-#}
{% macro default__typed_amount(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__typed_amount(expression) -%}
    cast({{ expression }} as {{ audience.type_amount() }})
{%- endmacro %}

{#- is_active: true for 1/true/t/yes/y in any case, false for anything else. -#}
{% macro parse_flag(cleaned) -%}
    coalesce(lower({{ cleaned }}) in ('1', 'true', 't', 'yes', 'y'), false)
{%- endmacro %}

{#-
    Email addresses (already normalized): exactly one @, no whitespace, a non-empty local
    part, and a domain that contains a dot and neither starts nor ends with one. None of the
    characters that write an address inside other text (`<>()",;:`) nor an invisible one
    (zero-width space, non-joiner and joiner, word joiner, byte-order mark) may appear:
    `<a@x.com>` or `Jane <a@x.com>` is not an address to publish.
-#}
{% macro is_valid_email(expression) -%}
    {%- set c = '@[:space:]<>()",;:\u200b\u200c\u200d\u2060\ufeff' -%}
    coalesce({{ audience.regex_matches(expression, '[^' ~ c ~ ']+@[^' ~ c ~ '.][^' ~ c ~ ']*[.][^' ~ c ~ ']*[^' ~ c ~ '.]') }}, false)
{%- endmacro %}

{#-
    A fingerprint of an (already normalized) email address: what the run history keeps of the
    address a suppression by email matched, and what the next run compares the customer's
    address now with (`customer_audience_decisions`, `audience_lost_suppressions`), so both
    sides are computed alike. md5 as lowercase hex on every engine (`dbt.hash`).
-#}
{% macro address_fingerprint(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{#-
    Why a row whose customer_id cannot be read is a header line, or null: `fields` maps each
    contract column of `input_file` to the row's cleaned text of it (a compile error when one
    is missing), read as the pre-step reads a header (`header_name`). Every field names its
    own column: the header repeated, harmless, the lines after it read as before. Every field
    names a column of the file (its extra columns too), but not all their own: a header in
    another column order, as when two exports are joined; the lines after it are read in the
    first header's order, so their values sit in the wrong columns (an opt-out's status read
    as a channel), and the control `assert_no_file_repeats_its_header_in_another_order` stops
    the run. Only the few rows whose customer_id cannot be read evaluate it (a header line's
    never can).
-#}
{% macro header_line_reason(input_file, fields) -%}
    {%- set names = var('input_files')[input_file] -%}
    {%- if (fields.keys() | sort) != (names | sort) -%}
        {{ exceptions.raise_compiler_error(
            'header_line_reason: the fields of ' ~ input_file ~ ' must be its columns ' ~ (names | join(', '))
        ) }}
    {%- endif -%}
    {#- the file's own header, its extra columns included (a landing folder's; seeds and
        warehouse tables have the contract's columns only) -#}
    {%- set header = audience.landing_layout(input_file)['columns'] if var('raw_input') == 'landing' else names -%}
    case
        when
            {%- for column in names %}
            {{ audience.header_name(fields[column]) }} = '{{ column }}'{{ ' and' if not loop.last }}
            {%- endfor %}
            then 'the header repeated'
        when
            {%- for column in names %}
            {{ audience.header_name(fields[column]) }} in ({{ audience.sql_string_literals(header) }}){{ ' and' if not loop.last }}
            {%- endfor %}
            then {{ audience.sql_string(audience.header_in_another_order()) }}
    end
{%- endmacro %}

{#- A field read as the pre-step reads a header's names: lowercased, each run of spaces or
    tabs an underscore. -#}
{% macro header_name(expression) -%}
    {{ audience.regex_replace_all('lower(' ~ expression ~ ')', audience.sql_string('[ \t]+'), "'_'") }}
{%- endmacro %}

{#- The rejection reason of a header line in another column order (`header_line_reason`). -#}
{% macro header_in_another_order() -%}
    {{ return('the header repeated in another column order (two exports joined?): the lines after it cannot be read by the first header') }}
{%- endmacro %}
