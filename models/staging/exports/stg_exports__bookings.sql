{{ config(materialized='view') }}

with

checked as (

    select * from {{ ref('stg_exports__bookings_checked') }}

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
        source_system

    from checked
    where disposition = 'accepted'

)

select * from final
