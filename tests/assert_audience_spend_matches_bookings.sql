-- Control: the published booking count, spend and last booking date of every audience member
-- equal what their accepted bookings add up to, recomputed here from staging with the build's
-- as-of date and parameters (audience_build_parameters).
with

audience as (

    select * from {{ ref('eligible_audience') }}

),

bookings as (

    select * from {{ ref('stg_exports__bookings') }}

),

build_parameters as (

    select * from {{ ref('audience_build_parameters') }}

),

recomputed as (

    select
        bookings.customer_id,
        count(*) as bookings_last_365_days,
        cast(sum(bookings.booking_amount) as {{ type_money() }}) as total_spend_last_365_days,
        max(bookings.booking_date) as last_booking_date

    from bookings
    cross join build_parameters
    where
        {{ dbt.position(
            dbt.concat(["','", 'bookings.booking_status', "','"]),
            dbt.concat(["','", 'build_parameters.counted_booking_statuses', "','"]),
        ) }} > 0
        and bookings.booking_date > {{ dbt.dateadd(
            'day', '-1 * build_parameters.recent_booking_days', 'build_parameters.as_of_date'
        ) }}
        and bookings.booking_date <= build_parameters.as_of_date
    group by bookings.customer_id

),

final as (

    select
        audience.customer_id,
        audience.bookings_last_365_days as published_bookings,
        recomputed.bookings_last_365_days as recomputed_bookings,
        audience.total_spend_last_365_days as published_spend,
        recomputed.total_spend_last_365_days as recomputed_spend,
        audience.last_booking_date as published_last_booking_date,
        recomputed.last_booking_date as recomputed_last_booking_date

    from audience
    left join recomputed
        on audience.customer_id = recomputed.customer_id
    where
        recomputed.customer_id is null
        or audience.bookings_last_365_days <> recomputed.bookings_last_365_days
        or audience.total_spend_last_365_days <> recomputed.total_spend_last_365_days
        or audience.last_booking_date <> recomputed.last_booking_date

)

select * from final
