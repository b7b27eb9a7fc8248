-- Control: no published address is held by a customer whose latest email consent is not
-- OPT_IN, who is actively suppressed by customer_id, or whose consent data was rejected
-- (rule 9), re-checked from the decisions of every customer holding the address.
with

audience as (

    select * from {{ ref('eligible_audience') }}

),

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

final as (

    select
        audience.customer_id as published_customer_id,
        audience.email,
        decisions.customer_id as blocking_customer_id,
        decisions.latest_consent_status,
        decisions.decision_reason

    from audience
    inner join decisions
        on audience.email = decisions.email_normalized
    where
        (decisions.has_email_consent and not decisions.is_opted_in)
        or decisions.is_suppressed_by_customer_id
        or decisions.has_rejected_consent_event

)

select * from final
