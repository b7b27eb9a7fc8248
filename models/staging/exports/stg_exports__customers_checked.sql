with

source_rows as (

    {{ raw_rows('customers') }}

),

parsed as (

    select
        source_line,
        structural_error,
        raw_line,
        customer_id as raw_customer_id,
        email as raw_email,
        first_name as raw_first_name,
        home_state as raw_home_state,
        loyalty_tier as raw_loyalty_tier,
        is_active as raw_is_active,
        updated_at as raw_updated_at,
        {{ parse_id('customer_id') }} as customer_id,
        {{ normalize_text('email') }} as email_normalized,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('home_state') }} as home_state,
        {{ clean_text('loyalty_tier') }} as loyalty_tier,
        {{ parse_flag('is_active') }} as is_active,
        {{ parse_timestamp_utc('updated_at') }} as updated_at_utc

    from source_rows

),

duplicates_marked as (

    {{ mark_identical_rows('parsed', [
        'raw_customer_id', 'raw_email', 'raw_first_name', 'raw_home_state',
        'raw_loyalty_tier', 'raw_is_active', 'raw_updated_at',
    ]) }}

),

validated as (

    select
        *,
        case
            when duplicate_of_line is not null then null
            when structural_error is not null then structural_error
            when customer_id is null then 'invalid customer_id'
            when updated_at_utc is null then 'invalid updated_at'
        end as rejection_reason

    from duplicates_marked

),

final as (

    select
        *,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
