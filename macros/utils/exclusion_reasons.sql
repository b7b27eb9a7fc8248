{#-
    The rules, numbered 1 to 10 in the order they are applied: this list is their numbering
    everywhere (the docs, the report, `audience explain`). The first rule a customer fails is their
    reason; a customer who fails none is `eligible`. Each rule has
    - `code`: the decision reason;
    - `step`: its number;
    - `description`: why a customer who fails it is left out;
    - `checks`: what a customer must satisfy to pass it (the same rule, said positively).
    Used by the decisions mart to number and describe reasons, by the summary model so every
    reason is reported (even with a count of zero) with its words, and through that model by
    `audience explain`. The doc block `rule_eligibility_order` explains each in words. The texts are
    SQL string literals on every engine: no single quotes. Rule 8's texts say the parameters in
    force (macro `rule_parameters()`), and rules 5 and 6 the non-email channels.
-#}
{% macro exclusion_reasons() -%}
    {%- set recent_bookings = audience.recent_bookings_rule_texts() -%}
    {%- set email_consent = audience.email_consent_rule_texts() -%}
    {{ return([
        {'code': 'data_quality_hold', 'step': 1,
            'description': 'A customers or consent_events row of this customer was rejected, or such a line naming them could not be read; held until the data is fixed',
            'checks': 'no customers or consent_events row of this customer was rejected, and no line of those files that could not be split may name them'},
        {'code': 'inactive', 'step': 2,
            'description': 'The current snapshot is not active',
            'checks': 'the current snapshot is active'},
        {'code': 'missing_email', 'step': 3,
            'description': 'The current snapshot has no email address',
            'checks': 'the current snapshot has an email address'},
        {'code': 'invalid_email', 'step': 4,
            'description': 'The email address is not a valid address',
            'checks': 'the email address is valid'},
        {'code': 'no_email_consent', 'step': 5,
            'description': 'No consent event that counts for email (' ~ email_consent ~ ')',
            'checks': 'at least one consent event that counts for email (' ~ email_consent ~ ')'},
        {'code': 'not_opted_in', 'step': 6,
            'description': 'The latest consent event that counts for email is not OPT_IN',
            'checks': 'the latest consent event that counts for email is OPT_IN'},
        {'code': 'suppressed', 'step': 7,
            'description': 'An active suppression matches the customer id or email',
            'checks': 'no active suppression matches the customer id or email'},
        {'code': 'no_recent_booking', 'step': 8,
            'description': recent_bookings.description,
            'checks': recent_bookings.checks},
        {'code': 'shared_address_blocked', 'step': 9,
            'description': 'Another holder of the address has a latest email consent other than OPT_IN, is suppressed by customer id, or has a rejected consent_events row',
            'checks': 'no holder of the address has a latest email consent other than OPT_IN, is suppressed by customer id, or has a rejected consent_events row'},
        {'code': 'duplicate_email', 'step': 10,
            'description': 'Another eligible customer with the same address was published instead',
            'checks': 'first among the eligible holders of the address (latest booking, then lowest customer id)'},
    ]) }}
{%- endmacro %}

{#-
    The rules as a relation: exclusion_reason, exclusion_step, exclusion_description,
    rule_checks.
-#}
{% macro exclusion_reasons_relation() -%}
    {%- for reason in audience.exclusion_reasons() %}
    {%- if "'" in reason.description or "'" in reason.checks %}
        {{ exceptions.raise_compiler_error("exclusion_reasons: no single quotes in the texts of " ~ reason.code) }}
    {%- endif %}
    select
        '{{ reason.code }}' as exclusion_reason,
        {{ reason.step }} as exclusion_step,
        '{{ reason.description }}' as exclusion_description,
        '{{ reason.checks }}' as rule_checks
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    Rule 8 in words, with the parameters in force: by default
    `No booking with status COMPLETED in the 365 days up to the as-of date`; with
    `{recent_booking_days: 180, counted_booking_statuses: [COMPLETED, PENDING],
    min_recent_bookings: 2}`: `Fewer than 2 bookings with status COMPLETED or PENDING in the
    180 days up to the as-of date`.
-#}
{% macro recent_bookings_rule_texts() -%}
    {%- set parameters = audience.rule_parameters() -%}
    {%- set statuses = parameters.counted_booking_statuses -%}
    {%- set status_text = statuses | join(' or ') if statuses | length < 3
        else statuses[:-1] | join(', ') ~ ' or ' ~ statuses[-1] -%}
    {%- set days = parameters.recent_booking_days -%}
    {%- set window -%}
        with status {{ status_text }} in the {{ days }} day{{ 's' if days != 1 }} up to the as-of date
    {%- endset -%}
    {%- set minimum = parameters.min_recent_bookings -%}
    {{ return({
        'description': ('No booking ' ~ window) if minimum == 1
            else ('Fewer than ' ~ minimum ~ ' bookings ' ~ window),
        'checks': ('a booking ' ~ window) if minimum == 1
            else ('at least ' ~ minimum ~ ' bookings ' ~ window),
    }) }}
{%- endmacro %}

{#-
    Which consent events count for rules 5 and 6, in words, with the non-email channels in force
    (sorted): by default `on the email channel, or other than OPT_IN on a channel other than
    inapp, mms, phone, post, postal, push, sms and whatsapp, blank included; an OPT_IN dated
    after the as-of date does not count`; with `{non_email_channels: []}`: `... or other than
    OPT_IN on any other channel, blank included; ...`.
-#}
{% macro email_consent_rule_texts() -%}
    {%- set channels = audience.rule_parameters().non_email_channels -%}
    {%- set channel_text = 'any other channel' if channels | length == 0
        else 'a channel other than ' ~ channels[0] if channels | length == 1
        else 'a channel other than ' ~ channels[:-1] | join(', ') ~ ' and ' ~ channels[-1] -%}
    {{ return(
        'on the email channel, or other than OPT_IN on ' ~ channel_text
        ~ ', blank included; an OPT_IN dated after the as-of date does not count'
    ) }}
{%- endmacro %}
