{#-
    A rerun of a day already published to this build's destination: how this build's audience
    differs from what the day's latest published run put on the campaign platform. This
    build's delta files are against the day before (`audience_previous_run`), as the first run
    of the day was; a platform that applied the first run's files would keep whatever the
    first run published and this one does not. The drift guard stops such a run
    (`same_day_rerun`). Read from the run history (source `history`, table `run_audience`);
    empty unless this build reruns a published day.
-#}
{%- set run_audience = published_audiences() %}

with

previous_run as (

    select * from {{ ref('audience_previous_run') }}

),

audience as (

    select * from {{ ref('eligible_audience') }}

),

run_audience as (

    select * from {{ run_audience }} as run_audience

),

-- the day's latest published run, when this build has the same as-of date
same_day_run as (

    select previous_run.latest_run_id as run_id

    from previous_run
    where previous_run.latest_as_of_date = previous_run.as_of_date

),

same_day_members as (

    select
        run_audience.customer_id,
        run_audience.email,
        run_audience.first_name,
        run_audience.home_state,
        run_audience.loyalty_tier,
        run_audience.bookings_last_365_days,
        run_audience.total_spend_last_365_days,
        run_audience.last_booking_date,
        same_day_run.run_id as same_day_run_id

    from run_audience
    inner join same_day_run
        on run_audience.run_id = same_day_run.run_id

),

-- this build's audience, only on a rerun of a published day
rerun_audience as (

    select
        audience.*,
        same_day_run.run_id as same_day_run_id

    from audience
    inner join same_day_run
        on true

),

compared as (

    select
        same_day_members.email as same_day_email,
        rerun_audience.email,
        coalesce(same_day_members.customer_id, rerun_audience.customer_id) as customer_id,
        coalesce(same_day_members.same_day_run_id, rerun_audience.same_day_run_id) as same_day_run_id,
        case
            when rerun_audience.customer_id is null then 'not_in_this_audience'
            when same_day_members.customer_id is null then 'not_in_the_same_day_run'
            when (same_day_members.email is distinct from rerun_audience.email) then 'email_changed'
            when
                (same_day_members.first_name is distinct from rerun_audience.first_name)
                or (same_day_members.home_state is distinct from rerun_audience.home_state)
                or (same_day_members.loyalty_tier is distinct from rerun_audience.loyalty_tier)
                or (same_day_members.bookings_last_365_days is distinct from rerun_audience.bookings_last_365_days)
                or (
                    same_day_members.total_spend_last_365_days
                    is distinct from rerun_audience.total_spend_last_365_days
                )
                or (same_day_members.last_booking_date is distinct from rerun_audience.last_booking_date)
                then 'values_changed'
        end as difference

    from same_day_members
    full outer join rerun_audience
        on same_day_members.customer_id = rerun_audience.customer_id

),

final as (

    select
        compared.customer_id,
        compared.same_day_run_id,
        compared.same_day_email,
        compared.email,
        compared.difference

    from compared
    where compared.difference is not null

)

select * from final
