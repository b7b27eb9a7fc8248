with

customers_checked as (

    select * from {{ ref('stg_exports__customers_checked') }}

),

customer_snapshots as (

    select * from {{ ref('stg_exports__customers') }}

),

-- every customer id the customers file names outside an accepted row: on rejected rows (the
-- id, or the one an unreadable id shaped like a mangled one names, `C-1122`, and both that an
-- id with three zero decimals may name, `157.000`), and where a line
-- with a structural error may name one (its salvaged ids, read from the line's start and end,
-- and read uncut where a thousands separator may have cut the id); a
-- customer known only from rejected or broken lines has no snapshot and is held
-- (data_quality_hold), never left without a decision
ids_outside_accepted_rows as (

    select customer_id

    from customers_checked
    where customer_id is not null and disposition = 'rejected'

    union

    select customer_id_in_mangled_id as customer_id

    from customers_checked
    where customer_id_in_mangled_id is not null and disposition = 'rejected'

    union

    select customer_id_before_zero_decimals as customer_id

    from customers_checked
    where customer_id_before_zero_decimals is not null and disposition = 'rejected'

    union

    select customer_id_before_zero_decimals_from_end as customer_id

    from customers_checked
    where customer_id_before_zero_decimals_from_end is not null and disposition = 'rejected'

    union

    select salvaged_customer_id as customer_id

    from customers_checked
    where salvaged_customer_id is not null

    union

    select salvaged_customer_id_from_end as customer_id

    from customers_checked
    where salvaged_customer_id_from_end is not null

    union

    select salvaged_customer_id_uncut as customer_id

    from customers_checked
    where salvaged_customer_id_uncut is not null

),

-- a snapshot dated after the as-of date (its UTC date is later) had not been written on it:
-- an active one gives way to any snapshot that counts; an inactive one counts whatever its
-- date (doubt excludes); when none counts, the latest decides as usual
snapshots_counted as {{ inlined_cte() }} (

    select
        *,
        (
            cast(updated_at_utc as date) <= {{ as_of_date() }}
            or not coalesce(is_active, false)
        ) as counts_on_as_of

    from customer_snapshots

),

snapshots_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by
                counts_on_as_of desc,
                updated_at_utc desc,
                is_active asc,
                email_normalized asc nulls first,
                first_name asc nulls first,
                home_state asc nulls first,
                loyalty_tier asc nulls first,
                source_line asc
        ) as snapshot_rank,
        count(*) over (partition by customer_id) as snapshot_count

    from snapshots_counted

),

current_snapshots as (

    select * from snapshots_ranked
    where snapshot_rank = 1

),

customers_with_snapshot as (

    select
        current_snapshots.customer_id,
        current_snapshots.source_line as snapshot_source_line,
        current_snapshots.updated_at_utc,
        current_snapshots.email_normalized,
        current_snapshots.first_name,
        current_snapshots.home_state,
        current_snapshots.loyalty_tier,
        true as has_current_snapshot,
        current_snapshots.snapshot_count as accepted_snapshot_count,
        current_snapshots.is_active

    from current_snapshots

),

-- the few ids named only outside accepted rows (the accepted ones are all in
-- current_snapshots: no distinct over every customer is needed)
customers_without_snapshot as (

    select
        ids_outside_accepted_rows.customer_id,
        cast(null as {{ dbt.type_bigint() }}) as snapshot_source_line,
        cast(null as {{ dbt.type_timestamp() }}) as updated_at_utc,
        cast(null as {{ dbt.type_string() }}) as email_normalized,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as home_state,
        cast(null as {{ dbt.type_string() }}) as loyalty_tier,
        false as has_current_snapshot,
        cast(0 as {{ dbt.type_bigint() }}) as accepted_snapshot_count,
        false as is_active

    from ids_outside_accepted_rows
    left join current_snapshots
        on ids_outside_accepted_rows.customer_id = current_snapshots.customer_id
    where current_snapshots.customer_id is null

),

final as (

    select * from customers_with_snapshot

    union all

    select * from customers_without_snapshot

)

select * from final
