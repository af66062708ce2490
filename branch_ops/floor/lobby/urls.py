"""Screens of the lobby queue, under /floor/lobby/."""

from django.urls import path

from branch_ops.floor.lobby import views

urlpatterns = [
    path("kiosk/<str:code>/", views.kiosk, name="lobby-kiosk"),
    path("kiosk/<str:code>/take/", views.kiosk_take, name="lobby-kiosk-take"),
    path("kiosk/<str:code>/ticket/<uuid:ticket_id>/", views.kiosk_ticket, name="lobby-kiosk-ticket"),
    path("display/<str:code>/", views.display, name="lobby-display"),
    path("display/<str:code>/board/", views.display_board, name="lobby-display-board"),
    path("counter/", views.counter_page, name="lobby-counter"),
    path("counter/panel/", views.counter_panel, name="lobby-counter-panel"),
    path("counter/<str:action>/", views.counter_action, name="lobby-counter-action"),
]
