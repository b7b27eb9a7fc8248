with

quarantined as (

    select * from {{ ref('stg_exports__consent_events_quarantined') }}

),

final as (

    select * from quarantined

)

select * from final
