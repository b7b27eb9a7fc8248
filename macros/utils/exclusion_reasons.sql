{#-
    The decision codes, in the order the rules are applied. The first rule a customer fails
    is their reason; a customer who fails none is `eligible`. Used by the decisions mart to
    number and describe reasons and by the summary model so every reason is reported, even
    with a count of zero. The doc block `rule_eligibility_order` explains each in words.
-#}
{% macro exclusion_reasons() -%}
    {{ return([
        {'code': 'data_quality_hold', 'step': 1, 'description': 'A customers or consent_events row of this customer was rejected, or such a line naming them could not be read; held until the data is fixed'},
        {'code': 'inactive', 'step': 2, 'description': 'The current snapshot is not active'},
        {'code': 'missing_email', 'step': 3, 'description': 'The current snapshot has no email address'},
        {'code': 'invalid_email', 'step': 4, 'description': 'The email address is not a valid address'},
        {'code': 'no_email_consent', 'step': 5, 'description': 'No consent event on the email channel'},
        {'code': 'not_opted_in', 'step': 6, 'description': 'The latest email consent event is not OPT_IN'},
        {'code': 'suppressed', 'step': 7, 'description': 'An active suppression matches the customer id or email'},
        {'code': 'no_recent_booking', 'step': 8, 'description': 'No completed booking in the 365 days up to the as-of date'},
        {'code': 'shared_address_blocked', 'step': 9, 'description': 'Another holder of the address opted out, is suppressed by id, or has unreadable consent data'},
        {'code': 'duplicate_email', 'step': 10, 'description': 'Another eligible customer with the same address was published instead'},
    ]) }}
{%- endmacro %}

{#- The reasons as a relation: exclusion_reason, exclusion_step, exclusion_description. -#}
{% macro exclusion_reasons_relation() -%}
    {%- for reason in audience.exclusion_reasons() %}
    select
        '{{ reason.code }}' as exclusion_reason,
        {{ reason.step }} as exclusion_step,
        '{{ reason.description }}' as exclusion_description
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}
