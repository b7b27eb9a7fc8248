with

customers as (

    select * from {{ ref('int_customers_evaluated') }}

),

holders as (

    select
        email_normalized,
        customer_id,
        is_suppressed_by_customer_id,
        has_rejected_consent_event,
        has_email_consent and not is_opted_in as has_latest_consent_other_than_opt_in

    from customers
    where email_normalized is not null

),

final as (

    select
        email_normalized,
        count(*) as holder_count,
        sum(case when has_latest_consent_other_than_opt_in then 1 else 0 end) as holders_not_opted_in,
        sum(case when is_suppressed_by_customer_id then 1 else 0 end) as holders_suppressed_by_customer_id,
        sum(case when has_rejected_consent_event then 1 else 0 end) as holders_with_rejected_consent_event

    from holders
    group by email_normalized
    having
        sum(
            case
                when has_latest_consent_other_than_opt_in
                    or is_suppressed_by_customer_id
                    or has_rejected_consent_event
                    then 1
                else 0
            end
        ) > 0

)

select * from final
