-- Who the campaign platform must update: members of both this audience and the one previously
-- published to this destination, under the same address, whose published values changed. The
-- columns of eligible_audience, new values.
with

audience as (

    select * from {{ ref('eligible_audience') }}

),

previous_members as (

    select * from {{ ref('audience_previous_members') }}

),

final as (

    select audience.*

    from audience
    inner join previous_members
        on
            audience.customer_id = previous_members.customer_id
            and audience.email = previous_members.email
    where
        audience.first_name is distinct from previous_members.first_name
        or audience.home_state is distinct from previous_members.home_state
        or audience.loyalty_tier is distinct from previous_members.loyalty_tier
        or audience.bookings_last_365_days is distinct from previous_members.bookings_last_365_days
        or audience.total_spend_last_365_days is distinct from previous_members.total_spend_last_365_days
        or audience.last_booking_date is distinct from previous_members.last_booking_date

)

select * from final
