-- A view: int_email_addresses_blocked reads it once and `audience explain` reads the holders of one
-- address; storing a row per customer again would buy nothing.
{{ config(materialized='view') }}

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

-- rule 9: any one of these casts doubt on the address for every holder, whatever their own
-- decision
final as (

    select
        *,
        coalesce(
            has_latest_consent_other_than_opt_in
            or is_suppressed_by_customer_id
            or has_rejected_consent_event,
            false
        ) as is_blocking_address

    from holders

)

select * from final
