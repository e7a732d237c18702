"""The cluster edge: apply Applications to Kubernetes as Flux and KubeVela would.

Public API (the ``kubernetes`` package is imported only by ``client.connect``)::

    client = connect(kubeconfig=None, context=None)          # ClusterClient
    spec = ReleaseSpec(app, namespace, env, objects=(Desired(...), ...), depends_on=...)
    outcome = apply_release(client, spec, ApplyOptions(...), on_event=print)
    result = apply_set(client, objects, Owner(app, ns), options)   # one set, no release
    history(client, app, namespace, env) / delete_release(...) / rollback_spec(...)
    save_workflow(client, app, namespace, env, {...})   # workflow state, kept with the release
    release_specs(units, previews)   # engine.environments output -> one spec per app/env/cluster

Modules: ``client`` (HTTP, discovery, errors), ``order`` (stages, dependsOn waves),
``health`` (kstatus), ``waiting``, ``changes`` (drift test, masking), ``policies``
(KubeVela's apply-side policies), ``applier`` (one set of objects), ``releases``
(inventory records), ``deploy`` (releases end to end), ``plan`` (inputs to specs).
"""
