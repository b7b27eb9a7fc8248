-- How the suppression list overlaps the customers: suppressions that match nobody, ones that
-- match by id and by email, addresses suppressed while held by several customers, and ones
-- active only because their dates cannot be read. A new batch of suppressions shows up here.
with

suppressions as (

    select * from {{ ref('stg_exports__suppressions') }}

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

matches as (

    select
        suppressions.source_line,
        count(
            distinct case when suppressions.customer_id = customers.customer_id then customers.customer_id end
        ) as customers_matched_by_id,
        count(
            distinct case
                when suppressions.email_normalized = customers.email_normalized then customers.customer_id
            end
        ) as customers_matched_by_email

    from suppressions
    left join customers
        on
            suppressions.customer_id = customers.customer_id
            or suppressions.email_normalized = customers.email_normalized
    group by suppressions.source_line

),

final as (

    select
        suppressions.source_line,
        suppressions.suppression_reason,
        suppressions.suppressed_from,
        suppressions.suppressed_until,
        suppressions.has_unreadable_dates,
        matches.customers_matched_by_id,
        matches.customers_matched_by_email,
        suppressions.customer_id is not null as names_customer_id,
        suppressions.email_normalized is not null as names_email,
        coalesce(
            suppressions.has_unreadable_dates
            or (
                suppressions.suppressed_from <= {{ as_of_date() }}
                and (suppressions.is_open_ended or suppressions.suppressed_until >= {{ as_of_date() }})
            ),
            false
        ) as is_active_on_as_of_date,
        matches.customers_matched_by_id + matches.customers_matched_by_email = 0 as matches_nobody,
        matches.customers_matched_by_email > 1 as address_held_by_several_customers

    from suppressions
    inner join matches
        on suppressions.source_line = matches.source_line

)

select * from final
order by source_line
