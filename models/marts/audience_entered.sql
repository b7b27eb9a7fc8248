-- Who the campaign platform must add: members of this audience who were not in the audience
-- previously published to this destination, or were under another address (an email change:
-- audience_left removes the old address). The columns of eligible_audience, new values.
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
    left join previous_members
        on audience.customer_id = previous_members.customer_id
    where
        previous_members.customer_id is null
        or previous_members.email is distinct from audience.email

)

select * from final
