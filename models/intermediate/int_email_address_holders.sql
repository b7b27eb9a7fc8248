-- A view: int_email_addresses_blocked reads it once and `audience explain` reads the holders of one
-- address; storing a row per customer again would buy nothing.
{{ config(materialized='view') }}

with

customers as (

    select * from {{ ref('int_customers_evaluated') }}

),

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

current_addresses as (

    select
        customers.email_normalized,
        customers.customer_id

    from customers
    where customers.email_normalized is not null

),

-- a rejected customers row might be its customer's newest snapshot, so its address is theirs
-- too, for every customer it may name (rule 1's readings: the id, the id in its digits, and
-- for a line that cannot be split every id and address read from its start and its end);
-- `union` keeps one row per address and customer
rejected_row_addresses as (

    select
        email_normalized,
        customer_id
    from customers_checked
    where
        disposition = 'rejected'
        and email_normalized is not null
        and customer_id is not null

    union

    select
        email_normalized,
        customer_id_in_digits as customer_id
    from customers_checked
    where
        disposition = 'rejected'
        and email_normalized is not null
        and customer_id_in_digits is not null

    union

    select
        salvaged_email_normalized as email_normalized,
        salvaged_customer_id as customer_id
    from customers_checked
    where salvaged_email_normalized is not null and salvaged_customer_id is not null

    union

    select
        salvaged_email_normalized as email_normalized,
        salvaged_customer_id_from_end as customer_id
    from customers_checked
    where salvaged_email_normalized is not null and salvaged_customer_id_from_end is not null

    union

    select
        salvaged_email_normalized_from_end as email_normalized,
        salvaged_customer_id as customer_id
    from customers_checked
    where salvaged_email_normalized_from_end is not null and salvaged_customer_id is not null

    union

    select
        salvaged_email_normalized_from_end as email_normalized,
        salvaged_customer_id_from_end as customer_id
    from customers_checked
    where
        salvaged_email_normalized_from_end is not null
        and salvaged_customer_id_from_end is not null

),

-- the rejected rows' addresses that are not already their customer's current one
rejected_only_addresses as (

    select
        rejected_row_addresses.email_normalized,
        rejected_row_addresses.customer_id

    from rejected_row_addresses
    left join current_addresses
        on
            rejected_row_addresses.customer_id = current_addresses.customer_id
            and rejected_row_addresses.email_normalized = current_addresses.email_normalized
    where current_addresses.customer_id is null

),

addresses as (

    select
        current_addresses.email_normalized,
        current_addresses.customer_id,
        true as is_current_address
    from current_addresses

    union all

    select
        rejected_only_addresses.email_normalized,
        rejected_only_addresses.customer_id,
        false as is_current_address
    from rejected_only_addresses

),

holders as (

    select
        addresses.email_normalized,
        addresses.customer_id,
        addresses.is_current_address,
        customers.is_suppressed_by_customer_id,
        customers.has_rejected_consent_event,
        customers.has_email_consent and not customers.is_opted_in as has_latest_consent_other_than_opt_in

    from addresses
    inner join customers
        on addresses.customer_id = customers.customer_id

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
