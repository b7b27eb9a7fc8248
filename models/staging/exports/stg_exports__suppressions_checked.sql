{#- the text an address may be written in: both fields, and the whole line when it has a
    structural error; a bad byte's escape reads as a space -#}
{%- set text_naming_addresses = "lower(" ~ without_byte_escapes(
    "coalesce(customer_id_text, '') || ' ' || coalesce(email_text, '') || ' ' || coalesce(raw_line, '')"
) ~ ")" -%}

with

source_rows as (

    select * from {{ ref('base_exports__suppressions') }}

),

cleaned as {{ materialized_cte() }} (

    select
        source_line,
        structural_error,
        {{ clean_text('salvaged_customer_id') }} as salvaged_customer_id_text,
        {{ clean_text('salvaged_customer_id_from_end') }} as salvaged_customer_id_from_end_text,
        {{ clean_text('salvaged_customer_id_uncut') }} as salvaged_customer_id_uncut_text,
        lower({{ clean_text('salvaged_email') }}) as salvaged_email_normalized,
        lower({{ clean_text('salvaged_email_from_end') }}) as salvaged_email_normalized_from_end,
        {{ clean_field('customer_id') }} as customer_id_text,
        {{ clean_field('email') }} as email_text,
        {{ clean_field('suppression_reason') }} as suppression_reason,
        {{ clean_field('suppressed_from') }} as suppressed_from_text,
        {{ clean_field('suppressed_until') }} as suppressed_until_text,
        raw_line

    from source_rows

),

parsed as {{ inlined_cte() }} (

    select
        *,
        {{ id_or_id_in_digits('salvaged_customer_id_text') }} as salvaged_customer_id,
        {{ id_or_id_in_digits('salvaged_customer_id_from_end_text') }} as salvaged_customer_id_from_end,
        {{ id_in_uncut_text('salvaged_customer_id_uncut_text') }} as salvaged_customer_id_uncut,
        {{ parse_id('customer_id_text') }} as customer_id,
        lower(email_text) as email_normalized,
        {{ addresses_in(text_naming_addresses) }} as addresses_in_fields,
        {{ parse_id('email_text') }} as customer_id_in_email,
        {{ parse_date('suppressed_from_text') }} as suppressed_from,
        {{ parse_date('suppressed_until_text') }} as suppressed_until,
        suppressed_until_text is null as is_open_ended,
        (
            {{ parse_date('suppressed_from_text') }} is null
            or (suppressed_until_text is not null and {{ parse_date('suppressed_until_text') }} is null)
        ) as has_unreadable_dates,
        {{ row_fingerprint([
            'customer_id_text', 'email_text', 'suppression_reason',
            'suppressed_from_text', 'suppressed_until_text',
        ]) }} as row_fingerprint

    from cleaned

),

{{ identical_rows_ctes('parsed', [
    'customer_id_text', 'email_text', 'suppression_reason',
    'suppressed_from_text', 'suppressed_until_text',
], 'duplicates_marked') }},

validated as (

    select
        *,
        case
            when duplicate_of_line is not null then null
            when structural_error is not null then structural_error
            when customer_id is null and email_normalized is null then coalesce({{ header_line_reason('suppressions', {
                'customer_id': 'customer_id_text', 'email': 'email_text',
                'suppression_reason': 'suppression_reason',
                'suppressed_from': 'suppressed_from_text', 'suppressed_until': 'suppressed_until_text',
            }) }}, 'no valid customer_id or email')
        end as rejection_reason

    from duplicates_marked

),

final as (

    select
        source_line,
        customer_id,
        email_normalized,
        suppression_reason,
        suppressed_from,
        suppressed_until,
        is_open_ended,
        has_unreadable_dates,
        duplicate_of_line,
        rejection_reason,
        structural_error is not null as has_structural_error,
        salvaged_customer_id,
        salvaged_customer_id_from_end,
        salvaged_customer_id_uncut,
        salvaged_email_normalized,
        salvaged_email_normalized_from_end,
        addresses_in_fields,
        customer_id_in_email,
        {{ id_in_digits('customer_id_text', 'customer_id') }} as customer_id_in_digits,
        {{ row_id_before_zero_decimals() }} as customer_id_before_zero_decimals,
        {{ row_id_before_zero_decimals_from_end() }} as customer_id_before_zero_decimals_from_end,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
