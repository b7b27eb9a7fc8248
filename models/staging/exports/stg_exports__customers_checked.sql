with

source_rows as (

    select * from {{ ref('base_exports__customers') }}

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
        -- every address written anywhere in a line with a structural error (its fields cannot
        -- be told apart: `Smith, Jo` unquoted shifts the email's place)
        case
            when raw_line is not null
                then {{ addresses_in('lower(' ~ without_byte_escapes('raw_line') ~ ')') }}
        end as addresses_in_line,
        {{ clean_field('customer_id') }} as customer_id_text,
        {{ clean_field('email') }} as email_text,
        {{ clean_field('first_name') }} as first_name,
        {{ clean_field('home_state') }} as home_state,
        {{ clean_field('loyalty_tier') }} as loyalty_tier,
        {{ clean_field('is_active') }} as is_active_text,
        {{ clean_field('updated_at') }} as updated_at_text

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
        {{ parse_flag('is_active_text') }} as is_active,
        {{ parse_timestamp_utc('updated_at_text') }} as updated_at_utc,
        {{ row_fingerprint([
            'customer_id_text', 'email_text', 'first_name', 'home_state',
            'loyalty_tier', 'is_active_text', 'updated_at_text',
        ]) }} as row_fingerprint

    from cleaned

),

{{ identical_rows_ctes('parsed', [
    'customer_id_text', 'email_text', 'first_name', 'home_state',
    'loyalty_tier', 'is_active_text', 'updated_at_text',
], 'duplicates_marked') }},

validated as (

    select
        *,
        case
            when duplicate_of_line is not null then null
            when structural_error is not null then structural_error
            when customer_id is null then coalesce({{ header_line_reason('customers', {
                'customer_id': 'customer_id_text', 'email': 'email_text', 'first_name': 'first_name',
                'home_state': 'home_state', 'loyalty_tier': 'loyalty_tier',
                'is_active': 'is_active_text', 'updated_at': 'updated_at_text',
            }) }}, 'invalid customer_id')
            when updated_at_utc is null then 'invalid updated_at'
        end as rejection_reason

    from duplicates_marked

),

final as (

    select
        source_line,
        customer_id,
        email_normalized,
        first_name,
        home_state,
        loyalty_tier,
        is_active,
        updated_at_utc,
        duplicate_of_line,
        rejection_reason,
        salvaged_customer_id,
        salvaged_customer_id_from_end,
        salvaged_customer_id_uncut,
        salvaged_email_normalized,
        salvaged_email_normalized_from_end,
        addresses_in_line,
        {{ id_in_digits('customer_id_text', 'customer_id') }} as customer_id_in_digits,
        {{ id_in_mangled_id('customer_id_text', 'customer_id') }} as customer_id_in_mangled_id,
        {{ row_id_before_zero_decimals() }} as customer_id_before_zero_decimals,
        {{ row_id_before_zero_decimals_from_end() }} as customer_id_before_zero_decimals_from_end,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
