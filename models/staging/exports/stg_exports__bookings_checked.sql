with

source_rows as (

    select * from {{ ref('base_exports__bookings') }}

),

cleaned as {{ materialized_cte() }} (

    select
        source_line,
        structural_error,
        {{ clean_field('booking_id') }} as booking_id,
        {{ clean_field('customer_id') }} as customer_id_text,
        {{ clean_field('booking_date') }} as booking_date_text,
        {{ clean_field('booking_amount') }} as booking_amount_text,
        {{ clean_field('booking_status') }} as booking_status_text,
        {{ clean_field('product_name') }} as product_name,
        {{ clean_field('source_system') }} as source_system

    from source_rows

),

parsed as {{ inlined_cte() }} (

    select
        *,
        {{ parse_id('customer_id_text') }} as customer_id,
        {{ parse_date('booking_date_text') }} as booking_date,
        {{ parse_amount('booking_amount_text') }} as booking_amount,
        upper(booking_status_text) as booking_status,
        {{ row_fingerprint(['booking_id']) }} as booking_id_fingerprint

    from cleaned

),

{{ identical_rows_ctes('parsed', [
    'booking_id', 'customer_id_text', 'booking_date_text', 'booking_amount_text',
    'booking_status_text', 'product_name', 'source_system',
], 'duplicates_marked', fingerprint='booking_id_fingerprint') }},

-- identical rows share their booking_id, so the duplicate search above already compared
-- every row whose booking_id repeats; a booking_id left on more than one distinct row conflicts
conflicting_booking_ids as (

    select duplicates_marked__candidates.booking_id

    from duplicates_marked__candidates
    inner join duplicates_marked__copies
        on duplicates_marked__candidates.source_line = duplicates_marked__copies.source_line
    where
        duplicates_marked__candidates.booking_id is not null
        and duplicates_marked__copies.first_line = duplicates_marked__candidates.source_line
    group by duplicates_marked__candidates.booking_id
    having count(*) > 1

),

validated as (

    select
        duplicates_marked.*,
        case
            when duplicates_marked.duplicate_of_line is not null then null
            when duplicates_marked.structural_error is not null then duplicates_marked.structural_error
            when duplicates_marked.booking_id is null then 'blank booking_id'
            when duplicates_marked.customer_id is null then coalesce({{ header_line_reason('bookings', {
                'booking_id': 'duplicates_marked.booking_id',
                'customer_id': 'duplicates_marked.customer_id_text',
                'booking_date': 'duplicates_marked.booking_date_text',
                'booking_amount': 'duplicates_marked.booking_amount_text',
                'booking_status': 'duplicates_marked.booking_status_text',
                'product_name': 'duplicates_marked.product_name',
                'source_system': 'duplicates_marked.source_system',
            }) }}, 'invalid customer_id')
            when duplicates_marked.booking_date is null then 'invalid booking_date'
            when duplicates_marked.booking_amount is null then 'invalid booking_amount'
            when conflicting_booking_ids.booking_id is not null then 'conflicting duplicate booking_id'
        end as rejection_reason

    from duplicates_marked
    left join conflicting_booking_ids
        on duplicates_marked.booking_id = conflicting_booking_ids.booking_id

),

final as (

    select
        source_line,
        booking_id,
        customer_id,
        booking_date,
        booking_amount,
        booking_status,
        product_name,
        source_system,
        duplicate_of_line,
        rejection_reason,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
