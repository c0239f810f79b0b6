"""UniPose for Blender: pose, describe and edit SMPL characters with a local pose language model.

The Blender parts are imported in `register()`, so the pure modules (`rigmap`, `client`, `capsules`,
`posedata`) import without bpy for testing. The extension never imports torch: the model runs in a
separate backend process (`unipose serve`).
"""
import atexit


def _classes():
    from . import interface, operators, preferences, properties
    return (preferences.UniPosePreferences, *properties.CLASSES, *operators.CLASSES, *interface.CLASSES)


def register():
    import bpy

    from . import jobs, properties
    for cls in _classes():
        bpy.utils.register_class(cls)
    properties.register_properties()
    bpy.app.timers.register(jobs.timer_tick, first_interval=jobs.TIMER_INTERVAL, persistent=True)
    atexit.register(jobs.shutdown)


def unregister():
    import bpy

    from . import jobs, properties
    atexit.unregister(jobs.shutdown)
    jobs.shutdown()
    if bpy.app.timers.is_registered(jobs.timer_tick):
        bpy.app.timers.unregister(jobs.timer_tick)
    properties.unregister_properties()
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
