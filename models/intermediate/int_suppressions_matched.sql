with

suppressions as (

    select * from {{ ref('stg_exports__suppressions') }}

),

suppressions_checked as (

    select * from {{ ref('stg_exports__suppressions_checked') }}

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

active_suppressions as (

    select
        *,
        has_unreadable_dates as is_active_because_unreadable

    from suppressions
    where
        has_unreadable_dates
        or (
            suppressed_from <= {{ as_of_date() }}
            and (is_open_ended or suppressed_until >= {{ as_of_date() }})
        )

),

-- a line that could not be split suppresses every id and email it may name, whatever its
-- dates: doubt about a suppression excludes
unreadable_lines as (

    select
        source_line,
        salvaged_customer_id as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized

    from suppressions_checked
    where salvaged_customer_id is not null

    union all

    select
        source_line,
        salvaged_customer_id_from_end as customer_id,
        cast(null as {{ dbt.type_string() }}) as email_normalized

    from suppressions_checked
    where salvaged_customer_id_from_end is not null

    union all

    select
        source_line,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        salvaged_email_normalized as email_normalized

    from suppressions_checked
    where salvaged_email_normalized is not null

    union all

    select
        source_line,
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        salvaged_email_normalized_from_end as email_normalized

    from suppressions_checked
    where salvaged_email_normalized_from_end is not null

),

suppressing_rows as (

    select
        source_line,
        customer_id,
        email_normalized,
        is_active_because_unreadable

    from active_suppressions

    union all

    select
        source_line,
        customer_id,
        email_normalized,
        true as is_active_because_unreadable

    from unreadable_lines

),

matched_by_customer_id as (

    select
        customers.customer_id,
        suppressing_rows.source_line,
        'customer_id' as matched_on,
        suppressing_rows.is_active_because_unreadable

    from customers
    inner join suppressing_rows
        on customers.customer_id = suppressing_rows.customer_id

),

matched_by_email as (

    select
        customers.customer_id,
        suppressing_rows.source_line,
        'email' as matched_on,
        suppressing_rows.is_active_because_unreadable

    from customers
    inner join suppressing_rows
        on customers.email_normalized = suppressing_rows.email_normalized

),

matches as (

    select * from matched_by_customer_id
    union all
    select * from matched_by_email

),

final as (

    select
        customer_id,
        max(case when matched_on = 'customer_id' then 1 else 0 end) = 1 as is_suppressed_by_customer_id,
        max(case when matched_on = 'email' then 1 else 0 end) = 1 as is_suppressed_by_email,
        max(case when is_active_because_unreadable then 1 else 0 end) = 1 as has_unreadable_suppression,
        count(distinct source_line) as active_suppression_count,
        min(source_line) as first_suppression_source_line

    from matches
    group by customer_id

)

select * from final
