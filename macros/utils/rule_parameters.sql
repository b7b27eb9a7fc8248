{#-
    The rules' parameters (dbt vars; defaults and meaning in dbt_project.yml, README
    "Parameters"), checked and normalized: the one place the models, the rule texts of
    `exclusion_reasons()` and the model `audience_build_parameters` read them from.

    - recent_booking_days: a whole number >= 1; a booking counts when
      as-of - recent_booking_days < booking_date <= as-of;
    - counted_booking_statuses: a non-empty list of statuses, compared trimmed and upper case
      (returned sorted, distinct, upper case);
    - min_recent_bookings: a whole number >= 1; fewer bookings that count excludes
      (`no_recent_booking`);
    - non_email_channels: a list, possibly empty, of the consent channels known to be other
      than email (rules 5 and 6), read as staging reads a channel: lower case, without `-`,
      `_`, `.` and spaces (returned so, sorted, distinct); none of them may read as `email`.

    A bad value raises a compiler error naming the var and what it accepts. Values arrive as
    YAML from `dbt build --vars` (ints, lists) and as JSON from `audience run --vars` (which
    has already normalized them the same way). Statuses are written into SQL as string
    literals, so they are limited to letters, digits, spaces, `_`, `-` and `.`: no quote can
    reach the SQL, and trimming and upper case mean the same in Python and on every engine.
-#}
{% macro rule_parameters() -%}
    {%- set days = var('recent_booking_days') -%}
    {%- if days is not integer or days < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var recent_booking_days takes a whole number of days >= 1, not "
            ~ audience.shown_value(days) ~ " (--vars '{recent_booking_days: 180}')"
        ) }}
    {%- endif -%}
    {%- set minimum = var('min_recent_bookings') -%}
    {%- if minimum is not integer or minimum < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var min_recent_bookings takes a whole number of bookings >= 1, not "
            ~ audience.shown_value(minimum) ~ " (--vars '{min_recent_bookings: 2}')"
        ) }}
    {%- endif -%}
    {%- set statuses = var('counted_booking_statuses') -%}
    {%- set accepted = [] -%}
    {%- set valid = statuses is sequence and statuses is not string and statuses is not mapping
        and statuses | length > 0 -%}
    {%- if valid -%}
        {%- for status in statuses -%}
            {%- if status is string
                and modules.re.fullmatch(audience.parameter_name_pattern(), status | trim) -%}
                {%- do accepted.append(status | trim | upper) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- a status that is not accepted is missing from `accepted` (a loop cannot reset `valid`) -#}
    {%- if not valid or accepted | length != statuses | length -%}
        {{ exceptions.raise_compiler_error(
            "var counted_booking_statuses takes a non-empty list of booking statuses (letters, "
            ~ "digits, spaces, _ - .), such as [COMPLETED, PENDING], not "
            ~ audience.shown_value(statuses)
        ) }}
    {%- endif -%}
    {{ return({
        'recent_booking_days': days,
        'counted_booking_statuses': accepted | unique | sort,
        'min_recent_bookings': minimum,
        'non_email_channels': audience.non_email_channels(),
    }) }}
{%- endmacro %}

{#- Var non_email_channels checked and read as staging reads a channel (macro
    `without_separators`, lower case): sorted, distinct. -#}
{% macro non_email_channels() -%}
    {%- set channels = var('non_email_channels') -%}
    {%- set accepted = [] -%}
    {%- set valid = channels is sequence and channels is not string
        and channels is not mapping -%}
    {%- if valid -%}
        {%- for channel in channels -%}
            {%- if channel is string
                and modules.re.fullmatch(audience.parameter_name_pattern(), channel | trim) -%}
                {%- set read = modules.re.sub('[-_. ]', '', channel | trim | lower) -%}
                {%- if read not in ('', 'email') -%}
                    {%- do accepted.append(read) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if not valid or accepted | length != channels | length -%}
        {{ exceptions.raise_compiler_error(
            "var non_email_channels takes a list of consent channels other than email (letters, "
            ~ "digits, spaces, _ - .; none that reads as email), such as [sms, push], not "
            ~ audience.shown_value(channels)
        ) }}
    {%- endif -%}
    {{ return(accepted | unique | sort) }}
{%- endmacro %}

{#- Whether `channel` (a channel as staging reads it) is one of var non_email_channels. -#}
{% macro is_non_email_channel(channel) -%}
    {%- set channels = audience.rule_parameters().non_email_channels -%}
    {%- if channels -%}
        coalesce({{ channel }} in ({{ audience.sql_string_literals(channels) }}), false)
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- How rules 5 and 6 read a channel (as staging reads it): `email`; `not_email`, one of var
    non_email_channels; or `possibly_email`, any other, blank included, whose events count
    unless they are an OPT_IN. -#}
{% macro email_channel_reading(channel) -%}
    case
        when {{ channel }} = 'email' then 'email'
        when {{ audience.is_non_email_channel(channel) }} then 'not_email'
        else 'possibly_email'
    end
{%- endmacro %}

{#- Whether rules 5 and 6 read an event as an email event: every event on the email channel,
    none on a channel of var non_email_channels, and on any other channel (blank included)
    every event but an OPT_IN (doubt excludes, and consent is never assumed). -#}
{% macro is_email_event(channel, consent_status) -%}
    (
        {{ audience.email_channel_reading(channel) }} = 'email'
        or (
            {{ audience.email_channel_reading(channel) }} = 'possibly_email'
            and {{ audience.withholds_consent(consent_status) }}
        )
    )
{%- endmacro %}

{#- Whether a consent status withholds consent: every status but OPT_IN, blank included (doubt
    excludes, and consent is never assumed). -#}
{% macro withholds_consent(consent_status) -%}
    coalesce({{ consent_status }}, '') <> 'OPT_IN'
{%- endmacro %}

{#- The non-email channels as one stable text: sorted, comma-joined (`push,sms`; '' for none). -#}
{% macro non_email_channels_text() -%}
    {{ return(audience.rule_parameters().non_email_channels | join(',')) }}
{%- endmacro %}

{#- A var's value as written in YAML or JSON (`"abc"`, `[]`, `1.5`), for the messages above. -#}
{% macro shown_value(value) -%}
    {{ return(value | tojson | replace('\\u0027', "'")) }}
{%- endmacro %}

{#- The counted statuses as SQL: `'COMPLETED', 'PENDING'`, for `booking_status in (...)`. -#}
{% macro counted_booking_statuses_sql() -%}
    {{ audience.sql_string_literals(audience.rule_parameters().counted_booking_statuses) }}
{%- endmacro %}

{#- A booking status or a channel as a parameter may name it: ASCII letters, digits, `_ - .`,
    single spaces between words. Such values are written into SQL as string literals, so no
    quote can reach the SQL. -#}
{% macro parameter_name_pattern() -%}
    {{ return('[A-Za-z0-9_.-]+( +[A-Za-z0-9_.-]+)*') }}
{%- endmacro %}

{#- Checked values (`parameter_name_pattern`) as SQL string literals, comma-separated
    (`'COMPLETED', 'PENDING'`), for `... in (...)`. -#}
{% macro sql_string_literals(values) -%}
    {%- for value in values -%}
        '{{ value }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- The counted statuses as one stable text: sorted, comma-joined (`COMPLETED,PENDING`). -#}
{% macro counted_booking_statuses_text() -%}
    {{ return(audience.rule_parameters().counted_booking_statuses | join(',')) }}
{%- endmacro %}

{#-
    on-run-start (dbt_project.yml): stops `dbt build`, `dbt run`, `dbt test`... before
    anything runs when a parameter is bad (the models also check them when they are parsed).

    For `dbt test`, the controls check the tables as they were built: they read the as-of date
    and the parameters from `audience_build_parameters`, not from this command's vars. Asking a
    test for another as-of date (var `as_of_date` or AUDIENCE_AS_OF_DATE) or other parameter
    values (vars passed on this command line) than the build's is a mistake, and stops here
    with a message saying so, instead of failing a control.
-#}
{% macro validate_rule_parameters() -%}
    {%- set parameters = audience.rule_parameters() -%}
    {%- if execute and flags.WHICH == 'test' -%}
        {%- do audience.check_test_matches_build(parameters) -%}
    {%- endif -%}
{%- endmacro %}

{% macro check_test_matches_build(parameters) -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'audience_build_parameters') | list -%}
    {%- if nodes | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(
        database=nodes[0].database, schema=nodes[0].schema, identifier=nodes[0].alias
    ) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name')
        | map('lower') | list -%}
    {%- set read = [
        'as_of_date', 'recent_booking_days', 'counted_booking_statuses', 'min_recent_bookings',
        'non_email_channels',
    ] -%}
    {%- set missing = read | reject('in', columns) | list -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "dbt test checks the tables as they were built, and " ~ relation ~ " was built "
            ~ "before the rules' parameter" ~ ("s " if missing | length > 1 else " ")
            ~ missing | join(', ') ~ (" were" if missing | length > 1 else " was")
            ~ " recorded: run `dbt build` to rebuild and check."
        ) }}
    {%- endif -%}
    {%- set built = run_query('select ' ~ read | join(', ') ~ ' from ' ~ relation) -%}
    {%- if built.rows | length != 1 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set row = built.rows[0] -%}
    {%- set built_values = {
        'as_of_date': row[0] | string,
        'recent_booking_days': row[1] | int,
        'counted_booking_statuses': row[2] | string,
        'min_recent_bookings': row[3] | int,
        'non_email_channels': (row[4] or '') | string,
    } -%}
    {%- set asked = {} -%}
    {%- set as_of = var('as_of_date') | string | trim -%}
    {%- if as_of in ('', 'None', 'none') -%}
        {%- set as_of = env_var('AUDIENCE_AS_OF_DATE', '') | trim -%}
    {%- endif -%}
    {%- if as_of not in ('', 'None', 'none') -%}
        {%- do asked.update({'as_of_date': as_of}) -%}
    {%- endif -%}
    {%- set passed = invocation_args_dict.get('vars') or {} -%}
    {%- for name in ['recent_booking_days', 'min_recent_bookings'] if name in passed -%}
        {%- do asked.update({name: parameters[name]}) -%}
    {%- endfor -%}
    {%- set lists = ['counted_booking_statuses', 'non_email_channels'] -%}
    {%- for name in lists if name in passed -%}
        {%- do asked.update({name: parameters[name] | join(',')}) -%}
    {%- endfor -%}
    {%- set differences = [] -%}
    {%- for name, value in asked.items() if value != built_values[name] -%}
        {%- if name in lists -%}
            {%- do differences.append(
                name ~ ' [' ~ value | replace(',', ', ') ~ '] (built with ['
                ~ built_values[name] | replace(',', ', ') ~ '])'
            ) -%}
        {%- else -%}
            {%- do differences.append(
                name ~ ' ' ~ value ~ ' (built with ' ~ built_values[name] ~ ')'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if differences -%}
        {{ exceptions.raise_compiler_error(
            "dbt test checks the tables as they were built: the tables were built as of "
            ~ built_values.as_of_date ~ " with recent_booking_days "
            ~ built_values.recent_booking_days ~ ", counted_booking_statuses ["
            ~ built_values.counted_booking_statuses | replace(',', ', ') ~ "], min_recent_bookings "
            ~ built_values.min_recent_bookings ~ ", non_email_channels ["
            ~ built_values.non_email_channels | replace(',', ', ') ~ "]; this test asks for "
            ~ differences | join('; ')
            ~ ". Run `dbt test` without those vars to check the build, or `dbt build` with them to "
            ~ "rebuild and check."
        ) }}
    {%- endif -%}
{%- endmacro %}
