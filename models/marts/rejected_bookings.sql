with

quarantined as (

    select * from {{ ref('stg_exports__bookings_quarantined') }}

),

final as (

    select * from quarantined

)

select * from final
