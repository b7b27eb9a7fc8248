with

source_rows as (

    {{ raw_rows('bookings') }}

),

parsed as (

    select
        source_line,
        structural_error,
        raw_line,
        booking_id as raw_booking_id,
        customer_id as raw_customer_id,
        booking_date as raw_booking_date,
        booking_amount as raw_booking_amount,
        booking_status as raw_booking_status,
        product_name as raw_product_name,
        source_system as raw_source_system,
        {{ clean_text('booking_id') }} as booking_id,
        {{ parse_id('customer_id') }} as customer_id,
        {{ parse_date('booking_date') }} as booking_date,
        {{ parse_amount('booking_amount') }} as booking_amount,
        upper({{ clean_text('booking_status') }}) as booking_status,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('source_system') }} as source_system

    from source_rows

),

duplicates_marked as (

    {{ mark_identical_rows('parsed', [
        'raw_booking_id', 'raw_customer_id', 'raw_booking_date', 'raw_booking_amount',
        'raw_booking_status', 'raw_product_name', 'raw_source_system',
    ]) }}

),

versions_counted as (

    select
        *,
        case
            when duplicate_of_line is null and structural_error is null and booking_id is not null
                then count(*) over (partition by duplicate_of_line is null and structural_error is null, booking_id)
        end as distinct_versions_of_booking_id

    from duplicates_marked

),

validated as (

    select
        *,
        case
            when duplicate_of_line is not null then null
            when structural_error is not null then structural_error
            when booking_id is null then 'blank booking_id'
            when customer_id is null then 'invalid customer_id'
            when booking_date is null then 'invalid booking_date'
            when booking_amount is null then 'invalid booking_amount'
            when distinct_versions_of_booking_id > 1 then 'conflicting duplicate booking_id'
        end as rejection_reason

    from versions_counted

),

final as (

    select
        *,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
