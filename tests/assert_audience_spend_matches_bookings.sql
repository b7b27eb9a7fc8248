-- Control: the published booking count, spend and last booking date of every audience member
-- equal what their accepted bookings add up to, recomputed here from staging with the build's
-- as-of date and parameters (audience_build_parameters). The window's bounds are computed once,
-- and the exact sums rounded only for the audience's members (at 100M bookings, rounding every
-- customer's sum took about a quarter of this control's CPU).
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

-- a booking counts when its status is in the comma-joined list and
-- as-of - recent_booking_days < booking_date <= as-of
booking_window as (

    {{ recent_booking_window('build_parameters') }}

),

recomputed as (

    select
        bookings.customer_id,
        count(*) as bookings_last_365_days,
        sum(bookings.booking_amount) as total_spend_exact,
        max(bookings.booking_date) as last_booking_date

    from bookings
    cross join booking_window
    where {{ counts_in_recent_booking_window('bookings', 'booking_window') }}
    group by bookings.customer_id

),

-- every audience member beside what their bookings add up to, the exact sum rounded once
compared as (

    select
        audience.customer_id,
        audience.bookings_last_365_days as published_bookings,
        recomputed.bookings_last_365_days as recomputed_bookings,
        audience.total_spend_last_365_days as published_spend,
        cast(recomputed.total_spend_exact as {{ type_money() }}) as recomputed_spend,
        audience.last_booking_date as published_last_booking_date,
        recomputed.last_booking_date as recomputed_last_booking_date

    from audience
    left join recomputed
        on audience.customer_id = recomputed.customer_id

),

-- a member without a counted booking has no recomputed count (count(*) is never null)
final as (

    select * from compared
    where
        recomputed_bookings is null
        or published_bookings <> recomputed_bookings
        or published_spend <> recomputed_spend
        or published_last_booking_date <> recomputed_last_booking_date

)

select * from final
