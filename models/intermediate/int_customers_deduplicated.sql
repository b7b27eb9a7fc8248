with

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

customer_snapshots as (

    select * from {{ ref('stg_exports__customers') }}

),

-- every customer id the customers file names: readably, on accepted or rejected rows, and
-- where a line with a structural error may name one (its salvaged ids, read from the line's
-- start and end); a customer known only from rejected or broken lines has no snapshot and is
-- held (data_quality_hold), never left without a decision
customer_ids as (

    select customer_id

    from customers_checked
    where customer_id is not null and disposition in ('accepted', 'rejected')

    union

    select salvaged_customer_id as customer_id

    from customers_checked
    where salvaged_customer_id is not null

    union

    select salvaged_customer_id_from_end as customer_id

    from customers_checked
    where salvaged_customer_id_from_end is not null

),

snapshots_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by
                updated_at_utc desc,
                is_active asc,
                email_normalized asc nulls first,
                first_name asc nulls first,
                home_state asc nulls first,
                loyalty_tier asc nulls first,
                source_line asc
        ) as snapshot_rank,
        count(*) over (partition by customer_id) as snapshot_count

    from customer_snapshots

),

current_snapshots as (

    select * from snapshots_ranked
    where snapshot_rank = 1

),

final as (

    select
        customer_ids.customer_id,
        current_snapshots.source_line as snapshot_source_line,
        current_snapshots.updated_at_utc,
        current_snapshots.email_normalized,
        current_snapshots.first_name,
        current_snapshots.home_state,
        current_snapshots.loyalty_tier,
        current_snapshots.customer_id is not null as has_current_snapshot,
        coalesce(current_snapshots.snapshot_count, 0) as accepted_snapshot_count,
        coalesce(current_snapshots.is_active, false) as is_active

    from customer_ids
    left join current_snapshots
        on customer_ids.customer_id = current_snapshots.customer_id

)

select * from final
