{#-
    Whether a consent event (a relation with `channel`, `consent_status` and `event_ts_utc`)
    counts for rules 5 and 6 as the controls re-derive them from the build's parameters (a
    relation with `as_of_date` and `non_email_channels`, such as `audience_build_parameters`):
    on the email channel, unless it is an OPT_IN dated after the as-of date; on a channel
    that is neither email nor one of the build's non-email channels (blank included), unless
    it is an OPT_IN.
-#}
{% macro counts_as_email_consent_event(events, build_parameters) -%}
    (
        (
            {{ events }}.channel = 'email'
            and (
                coalesce({{ events }}.consent_status, '') <> 'OPT_IN'
                or cast({{ events }}.event_ts_utc as date) <= {{ build_parameters }}.as_of_date
            )
        )
        or (
            coalesce({{ events }}.channel <> 'email', true)
            and coalesce({{ events }}.consent_status, '') <> 'OPT_IN'
            and coalesce(
                {{ dbt.position(
                    dbt.concat(["','", events ~ '.channel', "','"]),
                    dbt.concat(["','", build_parameters ~ '.non_email_channels', "','"]),
                ) }} = 0
                -- a channel holding a comma is none of the listed ones (`push,sms`)
                or {{ dbt.position("','", events ~ '.channel') }} > 0,
                true
            )
        )
    )
{%- endmacro %}
