# Generates the four provisioned dashboards (dashboards/*.json) from the indicator catalogue, so that
# panel descriptions carry each indicator's French label and method. Run from the repository root:
#   python3 dashboards/gen/generate.py && go test ./dashboards
# The JSON files are what Grafana loads and what the tests check; after an edit made in Grafana and
# exported, either port it here or stop regenerating.
import json, yaml, sys, os
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cat = {i['id']: i for i in yaml.safe_load(open(ROOT + '/schemas/indicators/catalogue.yaml'))['indicators']}
PLUGIN = 'sdaasp-fneindicateurs-datasource'
DS = {'type': PLUGIN, 'uid': '${ds}'}
PROM = {'type': 'prometheus', 'uid': '${prom}'}

def unit_of(i):
    u = cat[i]['unit']
    return {'%': 'percent', 'nombre': 'none'}.get(u, 'suffix: ' + u)

def method(i, extra=''):
    d = ' '.join(cat[i]['definition'].split())
    return f"{cat[i]['label']} — méthode : {d}{extra}"

STATUS_MAP = [{'type': 'value', 'options': {
    'atteint': {'text': 'Atteint', 'color': 'green', 'index': 0},
    'en_bonne_voie': {'text': 'En bonne voie', 'color': 'super-light-green', 'index': 1},
    'a_surveiller': {'text': 'À surveiller', 'color': 'orange', 'index': 2},
    'en_retard': {'text': 'En retard', 'color': 'red', 'index': 3},
    'sans_donnees': {'text': 'Sans données', 'color': 'text', 'index': 4},
    'sans_cible': {'text': 'Sans cible', 'color': 'text', 'index': 5},
}}]
MILESTONE_MAP = [{'type': 'value', 'options': {
    'a_lancer': {'text': 'À lancer', 'color': 'text', 'index': 0},
    'en_cours': {'text': 'En cours', 'color': 'blue', 'index': 1},
    'realise': {'text': 'Réalisé', 'color': 'green', 'index': 2},
    'abandonne': {'text': 'Abandonné', 'color': 'purple', 'index': 3},
}}]
LATE_MAP = [{'type': 'value', 'options': {
    'true': {'text': 'En retard', 'color': 'red', 'index': 0},
    'false': {'text': 'Dans les délais', 'color': 'green', 'index': 1},
}}]

class Dash:
    def __init__(self, uid, title, description, tags, time, variables, refresh=''):
        self.uid, self.title, self.description, self.tags, self.time, self.variables = uid, title, description, tags, time, variables
        self.panels, self.id, self.y, self.refresh = [], 0, 0, refresh
    def add(self, p, w, h, x=None, newline=False):
        self.id += 1
        p['id'] = self.id
        if not hasattr(self, 'x') or newline or self.x + w > 24:
            self.x = 0; self.y += getattr(self, 'rowh', 0); self.rowh = 0
        if x is not None: self.x = x
        p['gridPos'] = {'h': h, 'w': w, 'x': self.x, 'y': self.y}
        self.x += w; self.rowh = max(self.rowh, h)
        self.panels.append(p)
    def row(self, title, collapsed=False):
        self.x = 24
        self.add({'type': 'row', 'title': title, 'collapsed': False, 'panels': []}, 24, 1)
        self.x = 24
    def json(self):
        return {
            'uid': self.uid, 'title': self.title, 'description': self.description, 'tags': self.tags,
            'editable': True, 'graphTooltip': 1, 'timezone': 'browser', 'weekStart': 'monday',
            'fiscalYearStartMonth': 0, 'liveNow': False, 'refresh': self.refresh,
            'schemaVersion': 41, 'version': 1,
            'time': self.time, 'timepicker': {},
            'templating': {'list': self.variables},
            'annotations': {'list': [{'builtIn': 1, 'datasource': {'type': 'grafana', 'uid': '-- Grafana --'},
                                      'enable': True, 'hide': True, 'iconColor': 'rgba(0, 211, 255, 1)',
                                      'name': 'Annotations & alertes', 'type': 'dashboard'}]},
            'links': [{'title': 'Tableaux de bord FNE', 'type': 'dashboards', 'tags': ['fne'], 'asDropdown': True,
                       'includeVars': False, 'keepTime': True, 'icon': 'external link', 'targetBlank': False,
                       'tooltip': '', 'url': ''}],
            'panels': self.panels,
        }

def ds_var():
    return {'type': 'datasource', 'name': 'ds', 'label': "Source des indicateurs", 'query': PLUGIN,
            'refresh': 1, 'regex': '', 'hide': 0, 'current': {}, 'options': [], 'skipUrlSync': False,
            'description': "Source de données FNE (une par organisation ; celle d'un EPCI ne voit que son territoire)."}

def prom_var():
    return {'type': 'datasource', 'name': 'prom', 'label': 'Prometheus', 'query': 'prometheus',
            'refresh': 1, 'regex': '', 'hide': 0, 'current': {}, 'options': [], 'skipUrlSync': False,
            'description': 'Prometheus qui collecte les métriques du collecteur (/metrics).'}

def plugin_var(name, label, kind, parent=None, description=''):
    q = {'refId': 'VariableQuery', 'kind': kind}
    if parent: q['parent'] = parent
    return {'type': 'query', 'name': name, 'label': label, 'datasource': DS, 'query': q, 'definition': label,
            'refresh': 1, 'regex': '', 'sort': 0, 'hide': 0, 'includeAll': False, 'multi': False,
            'current': {}, 'options': [], 'skipUrlSync': False, 'description': description}

def t(ref, qtype, **kw):
    d = {'refId': ref, 'datasource': DS, 'queryType': qtype}
    d.update({k: v for k, v in kw.items() if v is not None})
    return d

def rename_override(name, display, extra=None):
    props = [{'id': 'displayName', 'value': display}]
    if extra: props += extra
    return {'matcher': {'id': 'byName', 'options': name}, 'properties': props}

SCORE_RENAME = {'axis': 'Axe', 'action': 'Action', 'id': 'Identifiant', 'label': 'Indicateur', 'value': 'Valeur',
                'unit': 'Unité', 'target': 'Cible', 'progress': 'Avancement', 'status': 'Statut',
                'trend': 'Évolution sur un mois', 'last_data': 'Dernière donnée'}

def scorecard_panel(title, desc, targets, exclude=('axis', 'id'), trend=True):
    order = ['action', 'label', 'value', 'unit', 'target', 'progress', 'status', 'trend', 'last_data', 'axis', 'id']
    excl = {k: True for k in exclude}
    if not trend: excl['trend'] = True
    return {
        'type': 'table', 'title': title, 'description': desc, 'datasource': DS, 'targets': targets,
        'transformations': [{'id': 'organize', 'options': {'excludeByName': excl,
                             'indexByName': {k: i for i, k in enumerate(order)}, 'renameByName': {}}}],
        'fieldConfig': {'defaults': {'custom': {'align': 'auto', 'cellOptions': {'type': 'auto'}, 'inspect': False},
                                     'decimals': 1, 'mappings': [], 'thresholds': {'mode': 'absolute', 'steps': [{'color': 'text', 'value': None}]}},
                        'overrides': [
                            rename_override('action', 'Action', [{'id': 'custom.width', 'value': 70}]),
                            rename_override('label', 'Indicateur', [{'id': 'custom.minWidth', 'value': 280}]),
                            rename_override('value', 'Valeur'),
                            rename_override('unit', 'Unité'),
                            rename_override('target', 'Cible'),
                            rename_override('progress', 'Avancement', [
                                {'id': 'unit', 'value': 'percent'}, {'id': 'min', 'value': 0}, {'id': 'max', 'value': 100},
                                {'id': 'custom.cellOptions', 'value': {'type': 'gauge', 'mode': 'basic', 'valueDisplayMode': 'text'}},
                                {'id': 'thresholds', 'value': {'mode': 'absolute', 'steps': [
                                    {'color': 'red', 'value': None}, {'color': 'orange', 'value': 80}, {'color': 'green', 'value': 100}]}}]),
                            rename_override('status', 'Statut', [
                                {'id': 'mappings', 'value': STATUS_MAP},
                                {'id': 'custom.cellOptions', 'value': {'type': 'color-background', 'mode': 'basic'}}]),
                            rename_override('trend', 'Évolution sur un mois', [
                                {'id': 'custom.cellOptions', 'value': {'type': 'color-text'}},
                                {'id': 'thresholds', 'value': {'mode': 'absolute', 'steps': [{'color': 'text', 'value': None}]}}]),
                            rename_override('last_data', 'Dernière donnée', [{'id': 'unit', 'value': 'dateTimeAsLocalNoDateIfToday'}]),
                        ]},
        'options': {'showHeader': True, 'cellHeight': 'sm', 'footer': {'show': False, 'reducer': ['sum'], 'fields': ''},
                    'sortBy': []},
    }

def milestones_panel(title, desc, targets):
    order = ['action', 'jalon', 'libelle', 'statut', 'date_prevue', 'date_realisee', 'en_retard']
    return {
        'type': 'table', 'title': title, 'description': desc, 'datasource': DS, 'targets': targets,
        'transformations': [{'id': 'organize', 'options': {'excludeByName': {}, 'indexByName': {k: i for i, k in enumerate(order)}, 'renameByName': {}}}],
        'fieldConfig': {'defaults': {'custom': {'align': 'auto', 'cellOptions': {'type': 'auto'}, 'inspect': False}, 'mappings': []},
                        'overrides': [
                            rename_override('action', 'Action', [{'id': 'custom.width', 'value': 70}]),
                            rename_override('jalon', 'Jalon', [{'id': 'custom.width', 'value': 90}]),
                            rename_override('libelle', 'Libellé', [{'id': 'custom.minWidth', 'value': 260}]),
                            rename_override('statut', 'Statut', [{'id': 'mappings', 'value': MILESTONE_MAP},
                                                                 {'id': 'custom.cellOptions', 'value': {'type': 'color-text'}}]),
                            rename_override('date_prevue', 'Date prévue', [{'id': 'unit', 'value': 'time:DD/MM/YYYY'}]),
                            rename_override('date_realisee', 'Date de réalisation', [{'id': 'unit', 'value': 'time:DD/MM/YYYY'}]),
                            rename_override('en_retard', 'Échéance', [{'id': 'mappings', 'value': LATE_MAP},
                                                                      {'id': 'custom.cellOptions', 'value': {'type': 'color-background', 'mode': 'basic'}}]),
                        ]},
        'options': {'showHeader': True, 'cellHeight': 'sm', 'footer': {'show': False, 'reducer': ['sum'], 'fields': ''},
                    'sortBy': [{'displayName': 'Date prévue', 'desc': False}]},
    }

def value_target_overrides(i):
    return [rename_override('value', cat[i]['label']), rename_override('target', 'Cible', [
        {'id': 'custom.lineStyle', 'value': {'fill': 'dash', 'dash': [10, 10]}},
        {'id': 'color', 'value': {'mode': 'fixed', 'fixedColor': 'orange'}},
        {'id': 'custom.fillOpacity', 'value': 0}])]

def series_panel(i, territory, title=None, extra=''):
    return {
        'type': 'timeseries', 'title': title or cat[i]['label'], 'description': method(i, extra), 'datasource': DS,
        'targets': [t('A', 'series', indicator=i, territory=territory)],
        'fieldConfig': {'defaults': {'unit': unit_of(i), 'decimals': 1, 'min': 0,
                                     'color': {'mode': 'palette-classic'},
                                     'custom': {'drawStyle': 'line', 'lineWidth': 2, 'fillOpacity': 10, 'pointSize': 5,
                                                'showPoints': 'always', 'spanNulls': False, 'axisPlacement': 'auto',
                                                'lineInterpolation': 'linear', 'gradientMode': 'none'}},
                        'overrides': value_target_overrides(i)},
        'options': {'legend': {'displayMode': 'list', 'placement': 'bottom', 'showLegend': True},
                    'tooltip': {'mode': 'multi', 'sort': 'none'}},
    }

def stat_panel(i, territory, title=None, extra=''):
    return {
        'type': 'stat', 'title': title or cat[i]['label'], 'description': method(i, extra), 'datasource': DS,
        'targets': [t('A', 'series', indicator=i, territory=territory)],
        'fieldConfig': {'defaults': {'unit': unit_of(i), 'decimals': 1, 'color': {'mode': 'fixed', 'fixedColor': 'blue'},
                                     'mappings': [], 'noValue': 'Sans données'},
                        'overrides': [rename_override('value', 'Valeur'),
                                      rename_override('target', 'Cible', [{'id': 'color', 'value': {'mode': 'fixed', 'fixedColor': 'text'}}])]},
        'options': {'reduceOptions': {'calcs': ['lastNotNull'], 'fields': '', 'values': False},
                    'orientation': 'auto', 'textMode': 'value_and_name', 'colorMode': 'value', 'graphMode': 'area',
                    'justifyMode': 'auto', 'wideLayout': True, 'showPercentChange': False},
    }

def text_panel(title, content):
    return {'type': 'text', 'title': title, 'description': '', 'options': {'mode': 'markdown', 'content': content,
            'code': {'language': 'plaintext', 'showLineNumbers': False, 'showMiniMap': False}}}

def freshness_panel(title, desc):
    order = ['source', 'last_status', 'last_run', 'last_success', 'last_data', 'rows_rejected', 'stale']
    run_map = [{'type': 'value', 'options': {
        'succes': {'text': 'Succès', 'color': 'green', 'index': 0},
        'partiel': {'text': 'Partiel (rejets)', 'color': 'orange', 'index': 1},
        'echec': {'text': 'Échec', 'color': 'red', 'index': 2},
        'en_cours': {'text': 'En cours', 'color': 'blue', 'index': 3}}}]
    stale_map = [{'type': 'value', 'options': {'true': {'text': 'Données anciennes', 'color': 'red', 'index': 0},
                                               'false': {'text': 'À jour', 'color': 'green', 'index': 1}}}]
    return {
        'type': 'table', 'title': title, 'description': desc, 'datasource': DS, 'targets': [t('A', 'freshness')],
        'transformations': [{'id': 'organize', 'options': {'excludeByName': {}, 'indexByName': {k: i for i, k in enumerate(order)}, 'renameByName': {}}}],
        'fieldConfig': {'defaults': {'custom': {'align': 'auto', 'cellOptions': {'type': 'auto'}, 'inspect': False}, 'mappings': []},
                        'overrides': [
                            rename_override('source', 'Source'),
                            rename_override('last_status', 'Dernière exécution', [{'id': 'mappings', 'value': run_map},
                                {'id': 'custom.cellOptions', 'value': {'type': 'color-text'}}]),
                            rename_override('last_run', 'Dernier passage', [{'id': 'unit', 'value': 'dateTimeFromNow'}]),
                            rename_override('last_success', 'Dernier succès', [{'id': 'unit', 'value': 'dateTimeFromNow'}]),
                            rename_override('last_data', 'Donnée la plus récente', [{'id': 'unit', 'value': 'time:DD/MM/YYYY'}]),
                            rename_override('rows_rejected', 'Lignes rejetées (dernier passage)', [
                                {'id': 'custom.cellOptions', 'value': {'type': 'color-text'}},
                                {'id': 'thresholds', 'value': {'mode': 'absolute', 'steps': [{'color': 'green', 'value': None}, {'color': 'orange', 'value': 1}]}}]),
                            rename_override('stale', 'Fraîcheur', [{'id': 'mappings', 'value': stale_map},
                                {'id': 'custom.cellOptions', 'value': {'type': 'color-background', 'mode': 'basic'}}]),
                        ]},
        'options': {'showHeader': True, 'cellHeight': 'sm', 'footer': {'show': False, 'reducer': ['sum'], 'fields': ''}, 'sortBy': []},
    }

AXES = {1: 'Axe 1 — Gouvernance et coordination', 2: "Axe 2 — Accompagnement, équipement et connexion",
        3: "Axe 3 — Visibilité de l'offre et relais"}

def axis_desc(a):
    ids = [i for i in cat if cat[i]['axis'] == a]
    return ("Un indicateur par ligne, évalué pour le dernier mois de la période. Statut : atteint ; en bonne voie "
            "(au moins la trajectoire linéaire de la valeur de départ à la cible) ; à surveiller (au moins 80 % de la "
            "trajectoire) ; en retard ; sans données. Méthodes : " + ' '.join(
                f"{cat[i]['label']} : {' '.join(cat[i]['definition'].split())}" for i in ids))

# ---------------------------------------------------------------- COPIL
def copil():
    d = Dash('fne-copil', 'Feuille de route — vue d\'ensemble',
             "Vue d'ensemble pour le comité de pilotage : les trois axes de la feuille de route, les chiffres clés face à leurs cibles et les jalons.",
             ['fne', 'copil'], {'from': 'now-12M/M', 'to': 'now-1M/M'}, [ds_var()])
    d.add(text_panel('Lire ce tableau de bord',
        "Chaque indicateur est évalué pour le **dernier mois de la période choisie** (par défaut, le dernier mois complet) "
        "sur l'ensemble du département. La pastille indique le statut par rapport à la trajectoire vers la cible. "
        "Survolez le **i** d'un panneau pour lire la méthode de calcul."), 24, 3)
    d.row('Chiffres clés face aux cibles')
    for i in ['a1.conseillers_actifs', 'a2.accompagnements', 'a2.communes_hotspot', 'a2.population_zone_blanche',
              'a3.epci_deux_rencontres', 'a1.epci_rencontre_locale']:
        d.add(stat_panel(i, None), 4, 5)
    for a in (1, 2, 3):
        d.row(AXES[a])
        d.add(scorecard_panel(AXES[a], axis_desc(a), [t('A', 'scorecard', territory=None, axis=a)], trend=False), 24, 7)
    d.row('Jalons de la feuille de route')
    d.add(milestones_panel('Jalons', "Jalons des actions de la feuille de route, dans leur état actuel (quel que soit le mois choisi). "
                           "« En retard » : date prévue dépassée sans réalisation.",
                           [t('A', 'milestones', axis=0)]), 24, 9)
    return d

# ---------------------------------------------------------------- COTECH
def mois_var():
    opts = [('Dernier mois complet', '0M'), ('Un mois plus tôt', '1M')] + [(f'{n} mois plus tôt', f'{n}M') for n in range(2, 13)]
    return {'type': 'custom', 'name': 'mois', 'label': 'Mois examiné',
            'query': ', '.join(f'{l} : {v}' for l, v in opts),
            'current': {'selected': True, 'text': opts[0][0], 'value': opts[0][1]},
            'options': [{'selected': k == 0, 'text': l, 'value': v} for k, (l, v) in enumerate(opts)],
            'hide': 0, 'includeAll': False, 'multi': False, 'skipUrlSync': False,
            'description': "Décale toute la revue : les tableaux évaluent le mois choisi, les courbes finissent avec lui."}

def shifted(p):
    p['timeShift'] = '$mois'
    p['hideTimeOverride'] = True
    return p

def cotech():
    d = Dash('fne-cotech', 'Revue mensuelle',
             "Revue mensuelle du comité technique : indicateurs du mois et évolution, tendances sur 24 mois face aux cibles, jalons, fraîcheur des données et rejets.",
             ['fne', 'cotech'], {'from': 'now-24M/M', 'to': 'now-1M/M'}, [ds_var(), mois_var()])
    d.add(text_panel('Lire ce tableau de bord',
        "Choisissez le **mois examiné** en haut de page (par défaut le dernier mois complet). Le tableau donne la valeur du mois, "
        "la cible, le statut et l'**évolution depuis le mois précédent** ; les courbes couvrent les 24 mois qui se terminent avec "
        "le mois examiné (la période se règle aussi dans le sélecteur de temps). En bas : fraîcheur des sources et rejets."), 24, 3)
    d.row('Indicateurs du mois')
    d.add(shifted(scorecard_panel('Tous les indicateurs du mois examiné',
        "Tous les indicateurs de la feuille de route pour le mois examiné, avec l'évolution par rapport au mois précédent (même méthode que la vue d'ensemble). " + axis_desc(1) + ' ' + axis_desc(2) + ' ' + axis_desc(3),
        [t('A', 'scorecard', territory=None, axis=0)], exclude=('id',))), 24, 14)
    d.row('Tendances face aux cibles')
    for i in ['a1.conseillers_actifs', 'a2.accompagnements', 'a2.accompagnements_1000_hab', 'a2.foyers_equipes_connectes',
              'a2.communes_hotspot', 'a2.reconditionnement', 'a2.population_zone_blanche', 'a1.instances_actives',
              'a3.fiches_a_jour', 'a3.consultations', 'a3.relais_informes', 'a3.relais_connaissent_offre']:
        d.add(shifted(series_panel(i, None)), 8, 8)
    d.row('Comparaison des EPCI')
    p = {
        'type': 'barchart', 'title': 'Accompagnements pour 1 000 habitants par EPCI',
        'description': method('a2.accompagnements_1000_hab', ' Un bâton par EPCI, pour le mois examiné.'), 'datasource': DS,
        'targets': [t('A', 'breakdown', indicator='a2.accompagnements_1000_hab', territory=None, level='epci')],
        'transformations': [{'id': 'organize', 'options': {'excludeByName': {'territory': True, 'latitude': True, 'longitude': True,
                              'population': True, 'status': True}, 'indexByName': {}, 'renameByName': {}}}],
        'fieldConfig': {'defaults': {'unit': unit_of('a2.accompagnements_1000_hab'), 'decimals': 1, 'color': {'mode': 'fixed', 'fixedColor': 'blue'},
                                     'custom': {'fillOpacity': 80, 'lineWidth': 1, 'gradientMode': 'none', 'axisPlacement': 'auto'}},
                        'overrides': [rename_override('name', 'EPCI'), rename_override('value', 'Accompagnements pour 1 000 hab.')]},
        'options': {'orientation': 'horizontal', 'xField': 'name', 'showValue': 'auto', 'stacking': 'none', 'barWidth': 0.8,
                    'groupWidth': 0.7, 'legend': {'showLegend': False, 'displayMode': 'list', 'placement': 'bottom'},
                    'tooltip': {'mode': 'single', 'sort': 'none'}, 'xTickLabelRotation': 0},
    }
    d.add(shifted(p), 12, 10)
    d.add(shifted(gaps_panel('EPCI sous leur cible', "Couples EPCI × indicateur dont la valeur du mois examiné n'atteint pas la cible (indicateurs ayant une cible au niveau EPCI).",
                             [t('A', 'gaps', territory=None, level='epci')], 'EPCI')), 12, 10)
    d.row('Actions et jalons')
    d.add(milestones_panel('Jalons des actions', "Jalons des actions de la feuille de route dans leur état actuel. « En retard » : date prévue dépassée sans réalisation.",
                           [t('A', 'milestones', axis=0)]), 24, 9)
    d.row('Fraîcheur des données et rejets')
    d.add(freshness_panel('Fraîcheur des sources',
        "Par source : dernier passage du collecteur, dernier succès, date de la donnée la plus récente, lignes rejetées au dernier passage "
        "(détail par « fne rejects » ou le tableau « Collecte des données »). « Données anciennes » : la source n'a pas été mise à jour dans le délai attendu."), 24, 8)
    return d

def gaps_panel(title, desc, targets, name_label):
    order = ['name', 'label', 'value', 'target', 'population', 'territory', 'indicator']
    return {
        'type': 'table', 'title': title, 'description': desc, 'datasource': DS, 'targets': targets,
        'transformations': [{'id': 'organize', 'options': {'excludeByName': {'territory': True, 'indicator': True},
                             'indexByName': {k: i for i, k in enumerate(order)}, 'renameByName': {}}}],
        'fieldConfig': {'defaults': {'custom': {'align': 'auto', 'cellOptions': {'type': 'auto'}, 'inspect': False}, 'decimals': 1, 'mappings': []},
                        'overrides': [rename_override('name', name_label), rename_override('label', 'Indicateur'),
                                      rename_override('value', 'Valeur'), rename_override('target', 'Cible'),
                                      rename_override('population', 'Population', [{'id': 'decimals', 'value': 0}])]},
        'options': {'showHeader': True, 'cellHeight': 'sm', 'footer': {'show': False, 'reducer': ['sum'], 'fields': ''},
                    'sortBy': [{'displayName': 'Population', 'desc': True}]},
    }

# ---------------------------------------------------------------- EPCI
def marker_layer(name, ref, color, size_field=True):
    style = {'color': {'fixed': color}, 'opacity': 0.6, 'rotation': {'fixed': 0, 'max': 360, 'min': -360, 'mode': 'mod'},
             'size': {'fixed': 6, 'max': 22, 'min': 5}, 'symbol': {'fixed': 'img/icons/marker/circle.svg', 'mode': 'fixed'},
             'symbolAlign': {'horizontal': 'center', 'vertical': 'center'},
             'textConfig': {'fontSize': 12, 'offsetX': 0, 'offsetY': 0, 'textAlign': 'center', 'textBaseline': 'middle'}}
    if size_field:
        style['size']['field'] = 'value'
    return {'type': 'markers', 'name': name, 'config': {'showLegend': True, 'style': style},
            'location': {'mode': 'coords', 'latitude': 'latitude', 'longitude': 'longitude'},
            'filterData': {'id': 'byRefId', 'options': ref}, 'tooltip': True, 'opacity': 1}

def epci():
    d = Dash('fne-epci', 'Couverture locale',
             "Couverture d'un EPCI : carte des communes (lieux, points wifi, population éloignée d'un lieu), activité des conseillers, rencontres et communes sous leurs cibles.",
             ['fne', 'epci'], {'from': 'now-12M/M', 'to': 'now-1M/M'},
             [ds_var(), plugin_var('epci', 'EPCI', 'epci', description="EPCI examiné (dans l'organisation d'un EPCI, seul le sien est proposé).")])
    d.add(text_panel('Lire ce tableau de bord',
        "Choisissez l'**EPCI** en haut de page. Les valeurs portent sur le **dernier mois de la période** (par défaut le dernier mois complet) ; "
        "les courbes couvrent toute la période. Sur la carte, chaque cercle est une commune : cochez ou décochez les couches dans la légende."), 24, 3)
    d.row('Carte des communes')
    geo = {
        'type': 'geomap', 'title': 'Communes : lieux, points wifi, population éloignée',
        'description': ("Une commune par point (centroïde). Couche « Lieux d'accompagnement » : " + method('ctx.lieux') +
                        " Couche « Points wifi » : " + method('a2.communes_hotspot') +
                        " Couche « Population éloignée » : " + method('a2.population_zone_blanche')),
        'datasource': DS,
        'targets': [t('A', 'breakdown', indicator='ctx.lieux', territory='$epci', level='commune'),
                    t('B', 'breakdown', indicator='a2.communes_hotspot', territory='$epci', level='commune'),
                    t('C', 'breakdown', indicator='a2.population_zone_blanche', territory='$epci', level='commune')],
        'fieldConfig': {'defaults': {'color': {'mode': 'thresholds'}, 'decimals': 1, 'mappings': [],
                                     'custom': {'hideFrom': {'legend': False, 'tooltip': False, 'viz': False}}},
                        'overrides': [rename_override('name', 'Commune'), rename_override('value', 'Valeur'),
                                      rename_override('population', 'Population', [{'id': 'decimals', 'value': 0}]),
                                      rename_override('status', 'Statut', [{'id': 'mappings', 'value': STATUS_MAP}])]},
        'options': {'view': {'id': 'fit', 'lat': 0, 'lon': 0, 'zoom': 9, 'allLayers': True, 'padding': 10},
                    'controls': {'showZoom': True, 'mouseWheelZoom': False, 'showAttribution': True, 'showScale': True,
                                 'showMeasure': False, 'showDebug': False},
                    'basemap': {'type': 'default', 'name': 'Fond de carte', 'config': {}},
                    'layers': [marker_layer("Lieux d'accompagnement", 'A', 'blue'),
                               marker_layer('Points wifi (100 = au moins un)', 'B', 'green', size_field=False),
                               marker_layer("Population éloignée d'un lieu (> 10 km)", 'C', 'red', size_field=False)],
                    'tooltip': {'mode': 'details'}},
    }
    d.add(geo, 16, 16)
    # right column: 2x2 stats
    d.x = 16; ybase = d.y
    for k, i in enumerate(['ctx.lieux', 'ctx.lieux_10000_hab', 'a2.population_zone_blanche', 'a2.communes_hotspot']):
        p = stat_panel(i, '$epci'); d.id += 1; p['id'] = d.id
        p['gridPos'] = {'h': 8, 'w': 4, 'x': 16 + 4 * (k % 2), 'y': ybase + 8 * (k // 2)}
        d.panels.append(p)
    d.x = 24
    d.row('Activité des conseillers numériques')
    d.add(series_panel('a1.conseillers_actifs', '$epci'), 8, 8)
    d.add(series_panel('a2.accompagnements', '$epci'), 8, 8)
    d.add(series_panel('a2.accompagnements_1000_hab', '$epci'), 8, 8)
    bd = {
        'type': 'table', 'title': 'Accompagnements par commune',
        'description': method('a2.accompagnements', ' Une ligne par commune de l\'EPCI, pour le dernier mois de la période.'), 'datasource': DS,
        'targets': [t('A', 'breakdown', indicator='a2.accompagnements', territory='$epci', level='commune')],
        'transformations': [{'id': 'organize', 'options': {'excludeByName': {'territory': True, 'latitude': True, 'longitude': True, 'status': True},
                             'indexByName': {'name': 0, 'value': 1, 'population': 2}, 'renameByName': {}}}],
        'fieldConfig': {'defaults': {'custom': {'align': 'auto', 'cellOptions': {'type': 'auto'}, 'inspect': False}, 'decimals': 0, 'mappings': []},
                        'overrides': [rename_override('name', 'Commune'),
                                      rename_override('value', 'Accompagnements', [{'id': 'custom.cellOptions', 'value': {'type': 'gauge', 'mode': 'basic', 'valueDisplayMode': 'text'}},
                                                                                   {'id': 'color', 'value': {'mode': 'continuous-BlPu'}}]),
                                      rename_override('population', 'Population')]},
        'options': {'showHeader': True, 'cellHeight': 'sm', 'footer': {'show': True, 'reducer': ['sum'], 'fields': ['value']},
                    'sortBy': [{'displayName': 'Accompagnements', 'desc': True}]},
    }
    d.add(bd, 24, 9)
    d.row('Rencontres')
    d.add(stat_panel('a3.epci_deux_rencontres', '$epci', title="Au moins deux rencontres d'information dans l'année",
                     extra=" Pour un EPCI : 100 % si au moins deux rencontres d'information (petit-déjeuner, demi-journée) se sont tenues depuis le 1er janvier, sinon 0 %."), 6, 6)
    d.add(stat_panel('a1.epci_rencontre_locale', '$epci', title='Rencontre locale tenue dans l\'année',
                     extra=" Pour un EPCI : 100 % si au moins une rencontre locale (échange de pratiques, atelier thématique) s'est tenue depuis le 1er janvier, sinon 0 %."), 6, 6)
    d.add(stat_panel('a1.instances_actives', '$epci'), 6, 6)
    d.add(stat_panel('a1.diversite_structures', '$epci'), 6, 6)
    d.add(series_panel('a3.relais_informes', '$epci'), 12, 8)
    d.add(series_panel('a3.relais_connaissent_offre', '$epci'), 12, 8)
    d.row('Indicateurs et communes sous leurs cibles')
    d.add(scorecard_panel("Indicateurs de l'EPCI", "Tous les indicateurs évalués pour l'EPCI et le dernier mois de la période. " + axis_desc(1) + ' ' + axis_desc(2) + ' ' + axis_desc(3),
                          [t('A', 'scorecard', territory='$epci', axis=0)], exclude=('id',)), 24, 14)
    d.add(gaps_panel('Communes sous leurs cibles', "Couples commune × indicateur de l'EPCI dont la valeur n'atteint pas la cible au dernier mois de la période, les plus peuplées d'abord.",
                     [t('A', 'gaps', territory='$epci', level='commune')], 'Commune'), 24, 10)
    return d

# ---------------------------------------------------------------- Collecte
def collecte():
    src_var = {'type': 'query', 'name': 'source', 'label': 'Source', 'datasource': PROM,
               'query': {'qryType': 1, 'query': 'label_values(fne_ingest_runs_total, source)', 'refId': 'PrometheusVariableQueryEditor-VariableQuery'},
               'definition': 'label_values(fne_ingest_runs_total, source)', 'refresh': 2, 'regex': '', 'sort': 1,
               'hide': 0, 'includeAll': True, 'allValue': '.*', 'multi': True, 'current': {'selected': True, 'text': ['Toutes'], 'value': ['$__all']},
               'options': [], 'skipUrlSync': False, 'description': 'Sources du collecteur (filtre les panneaux Prometheus).'}
    d = Dash('fne-collecte', 'Collecte des données',
             "Santé de la collecte : fraîcheur et rejets par source (base ClickHouse), débit, rejets par motif, durée et échecs des passages du collecteur (Prometheus).",
             ['fne', 'collecte'], {'from': 'now-7d', 'to': 'now'}, [ds_var(), prom_var(), src_var], refresh='5m')
    def prom_t(ref, expr, legend, instant=False):
        x = {'refId': ref, 'datasource': PROM, 'expr': expr, 'legendFormat': legend, 'range': not instant, 'instant': instant, 'editorMode': 'code'}
        return x
    d.add(text_panel('Lire ce tableau de bord',
        "Le tableau du haut vient de la base (table des passages) ; les autres panneaux viennent des métriques du collecteur "
        "(`/metrics`, port 9464) relevées par Prometheus. Le détail ligne à ligne des rejets s'obtient avec `fne rejects`."), 24, 3)
    d.row('Fraîcheur par source')
    d.add(freshness_panel('Fraîcheur et rejets par source',
        "Par source, d'après la table des passages du collecteur : statut du dernier passage, dernier succès, donnée la plus récente, lignes rejetées au dernier passage. « Données anciennes » : pas de mise à jour dans le délai attendu."), 24, 8)
    d.row('Collecteur (Prometheus)')
    up = {'type': 'stat', 'title': 'Collecteur joignable', 'description': "1 si Prometheus a pu lire /metrics du collecteur lors du dernier relevé (métrique up du job fne-collecteur).",
          'datasource': PROM, 'targets': [prom_t('A', 'max(up{job="fne-collecteur"})', 'Collecteur', instant=True)],
          'fieldConfig': {'defaults': {'mappings': [{'type': 'value', 'options': {'0': {'text': 'Injoignable', 'color': 'red', 'index': 0},
                                                                                 '1': {'text': 'Joignable', 'color': 'green', 'index': 1}}}],
                                       'noValue': 'Aucune mesure', 'color': {'mode': 'thresholds'},
                                       'thresholds': {'mode': 'absolute', 'steps': [{'color': 'red', 'value': None}, {'color': 'green', 'value': 1}]}}, 'overrides': []},
          'options': {'reduceOptions': {'calcs': ['lastNotNull'], 'fields': '', 'values': False}, 'colorMode': 'background', 'graphMode': 'none',
                      'textMode': 'value', 'justifyMode': 'auto', 'orientation': 'auto', 'wideLayout': True, 'showPercentChange': False}}
    d.add(up, 6, 6)
    since = {'type': 'bargauge', 'title': 'Temps écoulé depuis le dernier succès',
             'description': "Par source : maintenant moins fne_ingest_last_success_timestamp_seconds (horodatage du dernier passage réussi).",
             'datasource': PROM, 'targets': [prom_t('A', 'time() - max by (source) (fne_ingest_last_success_timestamp_seconds{source=~"$source"})', '{{source}}', instant=True)],
             'fieldConfig': {'defaults': {'unit': 's', 'min': 0, 'color': {'mode': 'thresholds'},
                                          'thresholds': {'mode': 'absolute', 'steps': [{'color': 'green', 'value': None}, {'color': 'orange', 'value': 90000}, {'color': 'red', 'value': 259200}]}}, 'overrides': []},
             'options': {'reduceOptions': {'calcs': ['lastNotNull'], 'fields': '', 'values': False}, 'orientation': 'horizontal',
                         'displayMode': 'basic', 'showUnfilled': True, 'valueMode': 'color', 'namePlacement': 'auto', 'sizing': 'auto', 'minVizHeight': 16, 'minVizWidth': 8, 'maxVizHeight': 300}}
    d.add(since, 18, 6)
    def ts(title, desc, targets, unit='short', stack=False, bars=False):
        return {'type': 'timeseries', 'title': title, 'description': desc, 'datasource': PROM, 'targets': targets,
                'fieldConfig': {'defaults': {'unit': unit, 'min': 0, 'color': {'mode': 'palette-classic'},
                                             'custom': {'drawStyle': 'bars' if bars else 'line', 'lineWidth': 1, 'fillOpacity': 30 if stack else 10,
                                                        'stacking': {'mode': 'normal' if stack else 'none', 'group': 'A'}, 'showPoints': 'never',
                                                        'spanNulls': False, 'axisPlacement': 'auto', 'lineInterpolation': 'linear', 'gradientMode': 'none', 'pointSize': 4}},
                                'overrides': []},
                'options': {'legend': {'displayMode': 'table', 'placement': 'right', 'showLegend': True, 'calcs': ['sum']},
                            'tooltip': {'mode': 'multi', 'sort': 'desc'}}}
    d.add(ts('Lignes écrites par source', "Lignes écrites dans ClickHouse par intervalle, par source (augmentation de fne_ingest_rows_written_total).",
             [prom_t('A', 'sum by (source) (increase(fne_ingest_rows_written_total{source=~"$source"}[$__interval]))', '{{source}}')], stack=True, bars=True), 12, 9)
    d.add(ts('Lignes rejetées par motif', "Lignes rejetées par intervalle, par source et motif (augmentation de fne_ingest_rows_rejected_total). Le détail est dans la table des rejets (fne rejects).",
             [prom_t('A', 'sum by (source, reason) (increase(fne_ingest_rows_rejected_total{source=~"$source"}[$__interval]))', '{{source}} — {{reason}}')], stack=True, bars=True), 12, 9)
    ratio = {'type': 'bargauge', 'title': 'Taux de rejet sur la période',
             'description': "Par source : lignes rejetées / lignes lues sur la période affichée (fne_ingest_rows_rejected_total et fne_ingest_rows_read_total).",
             'datasource': PROM,
             'targets': [prom_t('A', '100 * sum by (source) (increase(fne_ingest_rows_rejected_total{source=~"$source"}[$__range])) / clamp_min(sum by (source) (increase(fne_ingest_rows_read_total{source=~"$source"}[$__range])), 1)', '{{source}}', instant=True)],
             'fieldConfig': {'defaults': {'unit': 'percent', 'min': 0, 'max': 100, 'decimals': 1, 'color': {'mode': 'thresholds'},
                                          'thresholds': {'mode': 'absolute', 'steps': [{'color': 'green', 'value': None}, {'color': 'orange', 'value': 1}, {'color': 'red', 'value': 10}]}}, 'overrides': []},
             'options': {'reduceOptions': {'calcs': ['lastNotNull'], 'fields': '', 'values': False}, 'orientation': 'horizontal',
                         'displayMode': 'gradient', 'showUnfilled': True, 'valueMode': 'color', 'namePlacement': 'auto', 'sizing': 'auto', 'minVizHeight': 16, 'minVizWidth': 8, 'maxVizHeight': 300}}
    d.add(ratio, 8, 9)
    d.add(ts('Passages par statut', "Passages du collecteur par intervalle, par source et statut (succes, partiel, echec) : augmentation de fne_ingest_runs_total.",
             [prom_t('A', 'sum by (source, status) (increase(fne_ingest_runs_total{source=~"$source"}[$__interval]))', '{{source}} — {{status}}')], stack=True, bars=True), 8, 9)
    d.add(ts('Durée des passages (95e centile)', "95e centile de la durée d'un passage par source, d'après l'histogramme fne_ingest_run_duration_seconds.",
             [prom_t('A', 'histogram_quantile(0.95, sum by (source, le) (rate(fne_ingest_run_duration_seconds_bucket{source=~"$source"}[$__rate_interval])))', '{{source}}')], unit='s'), 8, 9)
    d.add(ts('Lignes lues par source', "Lignes lues dans les fichiers ou les API par intervalle, par source (augmentation de fne_ingest_rows_read_total).",
             [prom_t('A', 'sum by (source) (increase(fne_ingest_rows_read_total{source=~"$source"}[$__interval]))', '{{source}}')], stack=True, bars=True), 24, 8)
    return d

out = sys.argv[1] if len(sys.argv) > 1 else ROOT + '/dashboards'
for name, fn in [('copil', copil), ('cotech', cotech), ('epci', epci), ('collecte', collecte)]:
    with open(os.path.join(out, name + '.json'), 'w') as f:
        json.dump(fn().json(), f, ensure_ascii=False, indent=2)
        f.write('\n')
print('ok')
