with

customers as (

    select * from {{ ref('int_customers_evaluated') }}

),

blocked_addresses as (

    select * from {{ ref('int_email_addresses_blocked') }}

),

address_checked as (

    select
        customers.customer_id,
        customers.email_normalized,
        customers.last_booking_date,
        customers.individual_exclusion_reason,
        blocked_addresses.email_normalized is not null as is_address_blocked

    from customers
    left join blocked_addresses
        on customers.email_normalized = blocked_addresses.email_normalized

),

-- only customers who passed every individual rule and whose address is not blocked compete
candidates_ranked as (

    select
        customer_id,
        row_number() over (
            partition by email_normalized
            order by last_booking_date desc, customer_id asc
        ) as address_rank

    from address_checked
    where individual_exclusion_reason is null and not is_address_blocked

),

final as (

    select
        address_checked.customer_id,
        address_checked.is_address_blocked,
        candidates_ranked.address_rank,
        case
            when address_checked.individual_exclusion_reason is not null
                then address_checked.individual_exclusion_reason
            when address_checked.is_address_blocked then 'shared_address_blocked'
            when candidates_ranked.address_rank > 1 then 'duplicate_email'
        end as exclusion_reason

    from address_checked
    left join candidates_ranked
        on address_checked.customer_id = candidates_ranked.customer_id

)

select * from final
