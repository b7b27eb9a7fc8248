-- Latest email consent, checked by hand: for every customer, the deciding email event, how
-- many email events tie with it at the same instant, and whether a tie flipped the decision
-- (an OPT_IN beaten by another status at the same instant). Customers excluded for consent
-- whose tie or time-zone offset decided are the first to look at after a shrink.
with

consent_events as (

    select * from {{ ref('stg_exports__consent_events') }}

),

resolved as (

    select * from {{ ref('int_email_consent_resolved') }}

),

email_events as (

    select * from consent_events
    where channel = 'email'

),

ties as (

    select
        resolved.customer_id,
        count(*) as events_at_latest_instant,
        sum(case when email_events.consent_status = 'OPT_IN' then 1 else 0 end) as opt_ins_at_latest_instant

    from resolved
    inner join email_events
        on
            resolved.customer_id = email_events.customer_id
            and resolved.latest_event_ts_utc = email_events.event_ts_utc
    group by resolved.customer_id

),

final as (

    select
        resolved.customer_id,
        resolved.email_event_count,
        resolved.latest_event_id,
        resolved.latest_event_source_line,
        resolved.latest_event_ts_utc,
        resolved.latest_consent_status,
        resolved.is_opted_in,
        ties.events_at_latest_instant,
        ties.opt_ins_at_latest_instant,
        ties.events_at_latest_instant > 1 as is_tied,
        ties.opt_ins_at_latest_instant > 0 and not resolved.is_opted_in as tie_overrode_opt_in

    from resolved
    inner join ties
        on resolved.customer_id = ties.customer_id

)

select * from final
order by is_tied desc, customer_id asc
