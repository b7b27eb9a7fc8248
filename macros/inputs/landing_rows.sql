{#-
    A landing folder's lines, split into the contract's columns: the one split both engines use.

    `landing_rows(input_file)` reads the file's physical lines from `landing_lines()` (DuckDB:
    the lines the pre-step stored; Spark: the file itself, through Spark's `text` source) and
    returns one row per data line (the header is line 1):

    - `source_line`, `structural_error` (why the line cannot be split into the header's
      columns, or, for a line that splits but is not valid text, which byte is bad and in which
      column, or, in a comma file, that its customer_id and a neighbouring field may be one id
      cut at its thousands separator), `raw_line` (the line, kept only for a row with a
      structural error);
    - `is_unpadded_line`: true when no field of the line can start or end with a space
      character (the line has no quote, only ASCII characters, and no space at either end or
      beside a delimiter), so the staging models need not trim its fields (false for a blank
      line);
    - `salvaged_<column>`, `salvaged_<column>_from_end` for the columns of
      `var('salvaged_columns')` the file has: where a line with a structural error would hold
      them, counting its fields from its start and from its end (its quoted fields when its
      quoting is sound, else the pieces between delimiters, quotes not interpreted; a line with
      fewer pieces than the header has columns is cut at the other common delimiters too,
      `,` `;` tab `|`: a line another export wrote with semicolons still names its customer);
    - `salvaged_customer_id_uncut`: on a line with a structural error, its pieces from where its
      customer_id would sit (or where a cut id begins, on a line that splits) to its end, each
      without the spaces and double quotes at its ends, rejoined by commas: an id written with
      a thousands separator that the split cut (`157,000,...` in a comma file, `"1,157,000",...`
      quoted on a line whose quoting the pieces ignore, `157,000;...` in a semicolon file cut
      at its comma too) is whole at its start (the staging models read only that);
    - the contract's columns as text (null for a line that cannot be split).

    With `only_lines` (a query of `source_line`s) only those lines are split.

    Lines without a double quote are split on the file's delimiter. Lines with one are parsed as
    RFC 4180 fields: a field is either unquoted (no delimiter, no quote) or fully quoted with
    doubled quotes inside; if the fields do not consume the whole line the quoting is malformed.
    A line with an odd number of quotes is an unterminated quote, or a field whose embedded line
    break split the record: each physical piece is quarantined on its own line.

    The header's column order and the delimiter come from the pre-step, which checked the
    header before the build (`landing_layout`). Engine-specific pieces (lists, regular
    expressions, string literals) are dispatched below.
-#}
{% macro landing_rows(input_file, only_lines=none) -%}
    {%- set layout = audience.landing_layout(input_file) -%}
    {%- set header = layout['columns'] -%}
    {%- set delimiter = layout['delimiter'] -%}
    {%- set expected = header | length -%}
    {%- set columns = var('input_files')[input_file] -%}
    {%- set salvaged = var('salvaged_columns') | select('in', columns) | list -%}
    {%- set delimiter_literal = audience.sql_string(delimiter) -%}
    {%- set quoted_field = audience.sql_string('("(?:[^"]|"")*"|[^' ~ audience.regex_class_char(delimiter) ~ '"]*)[' ~ audience.regex_class_char(delimiter) ~ ']') -%}
    {#- in a comma file, an id written with a thousands comma is cut in two: on a line that lost
        a field elsewhere, so that it still splits, its first group (one to three digits) sits
        in one field and the next group (three digits) in the field after it. Where customer_id
        sits beside a column whose values are never three digits (`var('cut_id_neighbours')`),
        either customer_id holds the first group and the next column the second
        (`157,000,hard_bounce,...`: customer 157, email `000`) or the column before holds the
        first and customer_id the second (a field lost before the id: `000` is customer 0) -#}
    {%- set id_position = header.index('customer_id') + 1 if 'customer_id' in header else none -%}
    {%- set next_column = header[id_position] if id_position and id_position < expected else none -%}
    {%- set previous_column = header[id_position - 2] if id_position and id_position > 1 else none -%}
    {%- set checks_cut_after_id = delimiter == ',' and next_column in var('cut_id_neighbours') -%}
    {%- set checks_cut_before_id = delimiter == ',' and previous_column in var('cut_id_neighbours') -%}
    {#- a line that splits into fewer pieces than the header has columns on the declared
        delimiter may have been written with another common one (a line of a semicolon export
        appended to a comma file): its salvaged readings split it on those too -#}
    {%- set other_delimiters = [',', ';', '\t', '|'] | reject('equalto', delimiter) | join('') -%}
    {%- set salvage_line -%}
        case
            when {{ audience.list_size(audience.split_on(delimiter, 'line')) }} < {{ expected }}
                then translate(line, {{ audience.sql_string(other_delimiters) }}, {{ audience.sql_string(delimiter * (other_delimiters | length)) }})
            else line
        end
    {%- endset -%}
    with

    lines as (

        {{ audience.landing_lines(input_file, layout) }}

    ),

    marked as (

        select
            source_line,
            line,
            read_error,
            read_error_field,
            {{ audience.text_contains('line', "'\"'") }} as has_quote

        from lines
        where
            source_line > 1
            {%- if only_lines %}
            and source_line in ({{ only_lines }})
            {%- endif %}

    ),

    -- the regular expression runs only on the few lines with a quote (a case branch is
    -- evaluated only for the rows that reach it)
    matched as (

        select
            *,
            case
                when has_quote
                    then {{ audience.regex_extract_matches('line || ' ~ delimiter_literal, quoted_field) }}
            end as matches

        from marked

    ),

    split as (

        select
            source_line,
            line,
            read_error,
            read_error_field,
            has_quote,
            case
                when has_quote then {{ audience.list_map('matches', 'field', "case
                    when left(field, 1) = '\"'
                        then replace(substring(field, 2, length(field) - 3), '\"\"', '\"')
                    else substring(field, 1, length(field) - 1)
                end") }}
                when line is not null then {{ audience.split_on(delimiter, 'line') }}
            end as fields,
            case
                when has_quote then (length(line) - length(replace(line, '"', ''))) % 2 = 1
                else false
            end as has_unbalanced_quote,
            case
                when has_quote then {{ audience.list_join('matches') }} <> line || {{ delimiter_literal }}
                else false
            end as is_malformed_quoting

        from matched

    ),

    counted as (

        select
            *,
            {{ audience.list_size('fields') }} as field_count

        from split

    ),

    checked as (

        select
            *,
            case
                when line is null then 'blank line'
                when field_count = 1 and {{ audience.trim_spaces('line') }} = '' then 'blank line'
                when has_unbalanced_quote
                    then 'unterminated quote (or a line break inside a quoted field)'
                when is_malformed_quoting then 'malformed quoting'
                when field_count <> {{ expected }}
                    then 'expected {{ expected }} fields, found ' || cast(field_count as {{ dbt.type_string() }})
            end as split_error

        from counted

    ),

    -- where a cut id begins on a line that splits (see `checks_cut_after_id`): at customer_id
    -- (then the next field is the second group) or at the field before it (customer_id is the
    -- second group). Each field is matched as it is, spaces and double quotes allowed at its
    -- ends, and fullwidth and Arabic-Indic digits as digits: one regular expression per field,
    -- with no trim and no translation of the millions of fields that are not an id's group
    {%- set padding = '[ "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]*' %}
    {%- set digit = '[0-9\uff10-\uff19\u0660-\u0669\u06f0-\u06f9]' %}
    {%- set other = '[^0-9\uff10-\uff19\u0660-\u0669\u06f0-\u06f9]' %}
    {%- set first_group = padding ~ other ~ '{0,3}' ~ digit ~ '{1,3}' ~ padding %}
    {%- set second_group = padding ~ digit ~ '{3}' ~ other ~ '{0,3}' ~ padding %}
    {%- set id_field = audience.list_item('fields', id_position) if id_position else none %}
    cut_id_checked as (

        select
            *,
            case
                when split_error is not null then null
                {%- if checks_cut_after_id %}
                when
                    {{ audience.regex_matches(audience.list_item('fields', id_position + 1), second_group) }}
                    and {{ audience.regex_matches(id_field, first_group) }}
                    then {{ id_position }}
                {%- endif %}
                {%- if checks_cut_before_id %}
                when
                    {{ audience.regex_matches(id_field, second_group) }}
                    and {{ audience.regex_matches(audience.list_item('fields', id_position - 1), first_group) }}
                    then {{ id_position - 1 }}
                {%- endif %}
            end as cut_id_start

        from checked

    ),

    cut_id_explained as (

        select
            *,
            {%- if not (checks_cut_after_id or checks_cut_before_id) %}
            cast(null as {{ dbt.type_string() }}) as cut_id_error
            {%- else %}
            case cut_id_start
                {%- if checks_cut_after_id %}
                when {{ id_position }}
                    then 'customer_id and the field after it ({{ next_column }}) may be one id cut at its thousands separator'
                {%- endif %}
                {%- if checks_cut_before_id %}
                when {{ id_position - 1 }}
                    then 'the field before customer_id ({{ previous_column }}) and customer_id may be one id cut at its thousands separator'
                {%- endif %}
            end as cut_id_error
            {%- endif %}

        from cut_id_checked

    ),

    explained as (

        select
            *,
            case
                when split_error is not null
                    then split_error || coalesce(
                        '; also ' || read_error || ' in field ' || cast(read_error_field as {{ dbt.type_string() }}),
                        ''
                    )
                when read_error is not null
                    then read_error || coalesce(
                        ' in column ' || {{ audience.list_item(audience.text_list(header), 'read_error_field') }},
                        ' in field ' || cast(read_error_field as {{ dbt.type_string() }}),
                        ''
                    ) || coalesce('; also ' || cut_id_error, '')
                else cut_id_error
            end as structural_error

        from cut_id_explained

    ),

    -- where a line with a structural error is read for the ids it may name: its quoted fields
    -- when its quoting is sound and they are not fewer than the header's columns (a field too
    -- many, a bad byte: `"1,054"` stays one piece), else the line cut at every delimiter,
    -- quotes not interpreted (a line quoted whole, or a customer_id swallowed by a stray pair
    -- of quotes, is read in its pieces), and at the other common delimiters too when the
    -- declared one gives fewer pieces than columns (`salvage_line`)
    salvage_pieces as (

        select
            *,
            case
                when structural_error is null then null
                when
                    has_quote and not has_unbalanced_quote and not is_malformed_quoting
                    and field_count >= {{ expected }}
                    then fields
                else {{ audience.split_on(delimiter, salvage_line) }}
            end as pieces

        from explained

    ),

    final as (

        select
            source_line,
            structural_error,
            case when structural_error is not null then line end as raw_line,
            coalesce(
                not has_quote
                and {{ audience.is_ascii('line') }}
                and not {{ audience.text_contains('line', audience.sql_string(' ' ~ delimiter)) }}
                and not {{ audience.text_contains('line', audience.sql_string(delimiter ~ ' ')) }}
                and not {{ audience.has_edge_space('line') }},
                false
            ) as is_unpadded_line,
            {%- for column in salvaged %}
            {%- set from_start = header.index(column) + 1 %}
            {%- set from_end = expected - header.index(column) %}
            case
                when structural_error is not null
                    then {{ audience.trim_chars(audience.list_item('pieces', from_start), ' "') }}
            end as salvaged_{{ column }},
            case
                when structural_error is not null
                    then {{ audience.trim_chars(audience.list_item('pieces', -from_end), ' "') }}
            end as salvaged_{{ column }}_from_end,
            {%- if column == 'customer_id' %}
            {#- the line from the id's place to its end: the id read uncut (see the header) -#}
            case
                when structural_error is not null
                    then {{ audience.list_join(audience.list_map(
                        audience.list_slice('pieces', 'coalesce(cut_id_start, ' ~ from_start ~ ')', audience.list_size('pieces')),
                        'piece',
                        audience.trim_chars(audience.trim_spaces('piece'), ' "'),
                    ), ',') }}
            end as salvaged_{{ column }}_uncut,
            {%- endif %}
            {%- endfor %}
            {%- for column in columns %}
            case
                when split_error is null then {{ audience.list_item('fields', header.index(column) + 1) }}
            end as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}

        from salvage_pieces

    )

    select * from final
{%- endmacro %}

{#-
    The pre-step's account of one landing file, from the environment variable
    AUDIENCE_LANDING_LAYOUT (JSON, written by `audience run` once it has checked the files):
    `columns` (the header's columns in file order, normalized), `delimiter`, `path` (where the
    engine reads it; Spark only) and `encoding`. While dbt only parses the project the files
    have not been read yet: a placeholder layout of the contract's columns stands in.
-#}
{% macro landing_layout(input_file) -%}
    {%- set layouts = fromjson(env_var('AUDIENCE_LANDING_LAYOUT', '{}')) -%}
    {%- if input_file in layouts -%}
        {{ return(layouts[input_file]) }}
    {%- elif not execute -%}
        {{ return({'columns': var('input_files')[input_file], 'delimiter': ',', 'path': '', 'encoding': 'utf-8'}) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var('raw_input') is 'landing' but the environment has no layout for '" ~ input_file
            ~ "' (AUDIENCE_LANDING_LAYOUT): landing folders are read by `audience run --input-dir`"
        ) }}
    {%- endif -%}
{%- endmacro %}

{#-
    The file's physical lines: `source_line` (1-based, the header is line 1), `line` (its text
    without the line ending, null for an empty line), `read_error` (why the line is not valid
    text, or null) and `read_error_field` (the 1-based field its first bad byte is in).
-#}
{% macro landing_lines(input_file, layout) -%}
    {{ return(adapter.dispatch('landing_lines', 'audience')(input_file, layout)) }}
{%- endmacro %}

{#- DuckDB: the lines the pre-step stored, numbered (module `audience_pipeline.landing`). -#}
{% macro default__landing_lines(input_file, layout) -%}
        select
            source_line,
            line,
            read_error,
            read_error_field
        from {{ source('landing', input_file) }}
{%- endmacro %}

{#-
    Spark: the file read by the `text` source, one value per physical line (no CSV parsing, no
    quoting: a broken line never swallows the next). Spark reads a large file in splits, on
    many tasks at once; a line's number is found from where it sits: the split it came from
    (`input_file_block_start()`, the split's byte offset) and its position within the split
    (`monotonically_increasing_id()` counts up within a task). Line k of a split is line
    (lines in the splits before it) + k of the file: exact line numbers, from one aggregate
    over the splits, with no sort of the lines themselves.

    A line that is not valid UTF-8 keeps its place and its readable fields: its bad bytes read
    as U+FFFD, and `read_error` names the first bad byte as DuckDB's pre-step does.
-#}
{% macro spark__landing_lines(input_file, layout) -%}
    {%- set path = layout['path'] | replace('`', '``') -%}
        with

        read_lines as (

            select
                value as line_read,
                input_file_block_start() as block_start,
                monotonically_increasing_id() as row_id

            from text.`{{ path }}`

        ),

        splits as (

            select
                block_start,
                min(row_id) as first_row_id,
                coalesce(sum(count(*)) over (
                    order by block_start
                    rows between unbounded preceding and 1 preceding
                ), 0) as lines_before

            from read_lines
            group by block_start

        ),

        numbered as (

            select
                splits.lines_before + (read_lines.row_id - splits.first_row_id) + 1 as source_line,
                read_lines.line_read,
                is_valid_utf8(read_lines.line_read) as is_valid_text

            from read_lines
            inner join splits
                on read_lines.block_start = splits.block_start

        ),

        readable as (

            select
                source_line,
                line_read,
                is_valid_text,
                case when not is_valid_text then make_valid_utf8(line_read) end as line_made_valid

            from numbered

        ),

        final as (

            select
                source_line,
                nullif(coalesce(line_made_valid, line_read), '') as line,
                case
                    when not is_valid_text then 'not valid UTF-8: byte 0x' || upper(hex(substring(
                        cast(line_read as binary),
                        octet_length(substring(line_made_valid, 1, instr(line_made_valid, '\ufffd') - 1)) + 1,
                        1
                    )))
                end as read_error,
                case
                    when not is_valid_text then size(split(
                        substring(line_made_valid, 1, instr(line_made_valid, '\ufffd') - 1),
                        {{ audience.sql_string('[' ~ audience.regex_class_char(layout['delimiter']) ~ ']') }},
                        -1
                    ))
                end as read_error_field

            from readable

        )

        select * from final
{%- endmacro %}

{#- `value` as a SQL string literal. -#}
{% macro sql_string(value) -%}
    {{ return(adapter.dispatch('sql_string', 'audience')(value)) }}
{%- endmacro %}

{% macro default__sql_string(value) -%}
    {{ return("'" ~ (value | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{#- Spark's literals take backslash escapes: a backslash is doubled, a quote escaped. -#}
{% macro spark__sql_string(value) -%}
    {{ return("'" ~ (value | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'") }}
{%- endmacro %}

{#- `character` escaped to stand inside a regular expression's character class. -#}
{% macro regex_class_char(character) -%}
    {{ return('\\' ~ character if character in ['\\', ']', '[', '^', '-'] else character) }}
{%- endmacro %}

{#- Whether `expression` holds only ASCII characters (as many bytes as characters). -#}
{% macro is_ascii(expression) -%}
    {{ return(adapter.dispatch('is_ascii', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__is_ascii(expression) -%}
    octet_length({{ expression }}) = char_length({{ expression }})
{%- endmacro %}

{% macro duckdb__is_ascii(expression) -%}
    strlen({{ expression }}) = length({{ expression }})
{%- endmacro %}

{#- Whether `expression` starts or ends with a space (U+0020). -#}
{% macro has_edge_space(expression) -%}
    {{ return(adapter.dispatch('has_edge_space', 'audience')(expression)) }}
{%- endmacro %}

{% macro default__has_edge_space(expression) -%}
    (left({{ expression }}, 1) = ' ' or right({{ expression }}, 1) = ' ')
{%- endmacro %}

{#- DuckDB's `right` counts the characters of the whole text; `ends_with` compares bytes. -#}
{% macro duckdb__has_edge_space(expression) -%}
    (starts_with({{ expression }}, ' ') or ends_with({{ expression }}, ' '))
{%- endmacro %}

{% macro text_contains(expression, literal) -%}
    {{ return(adapter.dispatch('text_contains', 'audience')(expression, literal)) }}
{%- endmacro %}

{% macro default__text_contains(expression, literal) -%}
    contains({{ expression }}, {{ literal }})
{%- endmacro %}

{#- Every match of `pattern` (a SQL literal) in `expression`, as a list: the whole match, or
    the capture group numbered `group`. -#}
{% macro regex_extract_matches(expression, pattern, group=0) -%}
    {{ return(adapter.dispatch('regex_extract_matches', 'audience')(expression, pattern, group)) }}
{%- endmacro %}

{% macro default__regex_extract_matches(expression, pattern, group=0) -%}
    regexp_extract_all({{ expression }}, {{ pattern }}, {{ group }})
{%- endmacro %}

{#- `expression` with every match of `pattern` replaced by `replacement` (both SQL literals). -#}
{% macro regex_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'audience')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{#- Spark's regexp_replace replaces every match; it takes no flags. -#}
{% macro spark__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{#- `expression` cut at every `delimiter` (a single character), empty pieces kept. -#}
{% macro split_on(delimiter, expression) -%}
    {{ return(adapter.dispatch('split_on', 'audience')(delimiter, expression)) }}
{%- endmacro %}

{% macro default__split_on(delimiter, expression) -%}
    string_split({{ expression }}, {{ audience.sql_string(delimiter) }})
{%- endmacro %}

{% macro spark__split_on(delimiter, expression) -%}
    split({{ expression }}, {{ audience.sql_string('[' ~ audience.regex_class_char(delimiter) ~ ']') }}, -1)
{%- endmacro %}

{#- `list` with `body` (an expression of `element`) applied to each element. -#}
{% macro list_map(list, element, body) -%}
    {{ return(adapter.dispatch('list_map', 'audience')(list, element, body)) }}
{%- endmacro %}

{% macro default__list_map(list, element, body) -%}
    list_transform({{ list }}, lambda {{ element }}: {{ body }})
{%- endmacro %}

{% macro spark__list_map(list, element, body) -%}
    transform({{ list }}, {{ element }} -> {{ body }})
{%- endmacro %}

{#- The elements of `list` concatenated, `separator` (a text) between them. -#}
{% macro list_join(list, separator='') -%}
    {{ return(adapter.dispatch('list_join', 'audience')(list, separator)) }}
{%- endmacro %}

{% macro default__list_join(list, separator='') -%}
    array_to_string({{ list }}, {{ audience.sql_string(separator) }})
{%- endmacro %}

{% macro spark__list_join(list, separator='') -%}
    array_join({{ list }}, {{ audience.sql_string(separator) }})
{%- endmacro %}

{#- The elements of two lists, each once, sorted (texts by their bytes). -#}
{% macro list_sorted_union(first, second) -%}
    {{ return(adapter.dispatch('list_sorted_union', 'audience')(first, second)) }}
{%- endmacro %}

{% macro default__list_sorted_union(first, second) -%}
    list_sort(list_distinct(list_concat({{ first }}, {{ second }})))
{%- endmacro %}

{% macro spark__list_sorted_union(first, second) -%}
    array_sort(array_union({{ first }}, {{ second }}))
{%- endmacro %}

{#- Elements `first` to `last` of `list` (1-based, both included; none when `last` is before
    `first`). -#}
{% macro list_slice(list, first, last) -%}
    {{ return(adapter.dispatch('list_slice', 'audience')(list, first, last)) }}
{%- endmacro %}

{% macro default__list_slice(list, first, last) -%}
    list_slice({{ list }}, {{ first }}, {{ last }})
{%- endmacro %}

{% macro spark__list_slice(list, first, last) -%}
    slice({{ list }}, {{ first }}, greatest(({{ last }}) - ({{ first }}) + 1, 0))
{%- endmacro %}

{% macro list_size(list) -%}
    {{ return(adapter.dispatch('list_size', 'audience')(list)) }}
{%- endmacro %}

{% macro default__list_size(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro spark__list_size(list) -%}
    size({{ list }})
{%- endmacro %}

{#- Element `position` of `list`, 1-based (negative: from the end); null when there is none. -#}
{% macro list_item(list, position) -%}
    {{ return(adapter.dispatch('list_item', 'audience')(list, position)) }}
{%- endmacro %}

{% macro default__list_item(list, position) -%}
    {{ list }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_item(list, position) -%}
    try_element_at({{ list }}, {{ position }})
{%- endmacro %}

{#- A list literal of texts. -#}
{% macro text_list(values) -%}
    {{ return(adapter.dispatch('text_list', 'audience')(values)) }}
{%- endmacro %}

{% macro default__text_list(values) -%}
    [{% for value in values %}{{ audience.sql_string(value) }}{{ ", " if not loop.last }}{% endfor %}]
{%- endmacro %}

{% macro spark__text_list(values) -%}
    array({% for value in values %}{{ audience.sql_string(value) }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- `expression` without the characters of `characters` at either end. -#}
{% macro trim_chars(expression, characters) -%}
    {{ return(adapter.dispatch('trim_chars', 'audience')(expression, characters)) }}
{%- endmacro %}

{% macro default__trim_chars(expression, characters) -%}
    trim({{ expression }}, {{ audience.sql_string(characters) }})
{%- endmacro %}

{% macro spark__trim_chars(expression, characters) -%}
    trim(both {{ audience.sql_string(characters) }} from {{ expression }})
{%- endmacro %}
