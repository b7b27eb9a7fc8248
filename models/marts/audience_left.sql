-- Who the campaign platform must remove: members of the audience previously published to this
-- destination who are not in this one, under the address published then (the one the platform
-- knows), with the reason: the rule that now excludes them, `not_in_inputs` when they are gone
-- from the exports, or `email_changed` when they stay under a new address (audience_entered
-- adds it).
with

previous_members as (

    select * from {{ ref('audience_previous_members') }}

),

audience as (

    select * from {{ ref('eligible_audience') }}

),

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

final as (

    select
        previous_members.customer_id,
        previous_members.email,
        case
            when audience.customer_id is not null then 'email_changed'
            when decisions.customer_id is null then 'not_in_inputs'
            else decisions.decision_reason
        end as left_reason

    from previous_members
    left join audience
        on previous_members.customer_id = audience.customer_id
    left join decisions
        on previous_members.customer_id = decisions.customer_id
    where
        audience.customer_id is null
        or previous_members.email is distinct from audience.email

)

select * from final
