#!/usr/bin/env python3
# A re-creation of the widely copied Wazuh "custom-misp.py" integration, for the bench's baseline (b) only: the same
# control flow and the same mistakes, with the standard library instead of `requests` (urllib does the one GET).
# integratord runs it once per alert, one alert at a time: argv[1] is a file holding the alert.
# Kept as it was on purpose: dispatch on rule.groups[0] and [2] by position, the first 64-character word of the
# hashes only, the value unencoded in the URL path, no type or to_ids filter, no timeout, the first attribute only,
# an IPv6 destination that crashes it (alert_output["data"] does not exist), and the agent location unescaped.
import sys
import os
from socket import socket, AF_UNIX, SOCK_DGRAM
import json
import ipaddress
import re
import ssl
import urllib.request
import urllib.error

pwd = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
socket_addr = '{0}/queue/sockets/queue'.format(pwd)


def send_event(msg, agent=None):
    if not agent or agent["id"] == "000":
        string = '1:misp:{0}'.format(json.dumps(msg))
    else:
        string = '1:[{0}] ({1}) {2}->misp:{3}'.format(agent["id"], agent["name"],
                                                     agent["ip"] if "ip" in agent else "any", json.dumps(msg))
    sock = socket(AF_UNIX, SOCK_DGRAM)
    sock.connect(socket_addr)
    sock.send(string.encode())
    sock.close()


false = False
# Read configuration parameters
alert_file = open(sys.argv[1])
# Read the alert file
alert = json.loads(alert_file.read())
alert_file.close()
# New Alert Output if MISP Alert or Error calling the API
alert_output = {}
# MISP Server Base URL
misp_base_url = "@MISP_URL@/attributes/restSearch/"
# MISP Server API AUTH KEY
misp_api_auth_key = "@MISP_KEY@"
# API - HTTP Headers
misp_apicall_headers = {"Content-Type": "application/json", "Authorization": f"{misp_api_auth_key}",
                        "Accept": "application/json"}
## Extract Sysmon for Windows/Sysmon for Linux and Sysmon Event ID
event_source = alert["rule"]["groups"][0]
event_type = alert["rule"]["groups"][2]
## Regex Pattern used based on SHA256 lenght (64 characters)
regex_file_hash = re.compile(r'\w{64}')
if event_source == 'windows':
    if event_type == 'sysmon_event1':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event3' and alert["data"]["win"]["eventdata"]["destinationIsIpv6"] == 'false':
        try:
            dst_ip = alert["data"]["win"]["eventdata"]["destinationIp"]
            if ipaddress.ip_address(dst_ip).is_global:
                wazuh_event_param = dst_ip
            else:
                sys.exit()
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event3' and alert_output["data"]["win"]["eventdata"]["destinationIsIpv6"] == 'true':
        sys.exit()
    elif event_type == 'sysmon_event6':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event7':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event_15':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event_22':
        try:
            wazuh_event_param = alert["data"]["win"]["eventdata"]["queryName"]
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event_23':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event_24':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    elif event_type == 'sysmon_event_25':
        try:
            wazuh_event_param = regex_file_hash.search(alert["data"]["win"]["eventdata"]["hashes"]).group(0)
        except IndexError:
            sys.exit()
    else:
        sys.exit()
elif event_source == 'linux':
    if event_type == 'sysmon_event3' and alert["data"]["eventdata"]["destinationIsIpv6"] == 'false':
        try:
            dst_ip = alert["data"]["eventdata"]["DestinationIp"]
            if ipaddress.ip_address(dst_ip).is_global:
                wazuh_event_param = dst_ip
            else:
                sys.exit()
        except IndexError:
            sys.exit()
    else:
        sys.exit()
elif event_source == 'ossec' and event_type == "syscheck_entry_added":
    try:
        wazuh_event_param = alert["syscheck"]["sha256_after"]
    except IndexError:
        sys.exit()
else:
    sys.exit()

misp_search_value = "value:"f"{wazuh_event_param}"
misp_search_url = ''.join([misp_base_url, misp_search_value])
try:
    # requests.get(misp_search_url, headers=misp_apicall_headers, verify=False): no timeout, certificate unchecked
    context = ssl._create_unverified_context()
    request = urllib.request.Request(misp_search_url, headers=misp_apicall_headers, method="GET")
    with urllib.request.urlopen(request, context=context) as response:
        misp_api_response = json.loads(response.read().decode("utf-8"))
except urllib.error.URLError as e:
    if isinstance(e, urllib.error.HTTPError):
        raise  # requests would have handed back the 403 body, and .json()["response"] then raised a KeyError
    alert_output["misp"] = {}
    alert_output["integration"] = "misp"
    alert_output["misp"]["error"] = 'Connection Error to MISP API'
    send_event(alert_output, alert["agent"])
else:
    # Check if response includes Attributes (IoCs)
    if (misp_api_response["response"]["Attribute"]):
        # Generate Alert Output from MISP Response
        alert_output["misp"] = {}
        alert_output["misp"]["event_id"] = misp_api_response["response"]["Attribute"][0]["event_id"]
        alert_output["misp"]["category"] = misp_api_response["response"]["Attribute"][0]["category"]
        alert_output["misp"]["value"] = misp_api_response["response"]["Attribute"][0]["value"]
        alert_output["misp"]["type"] = misp_api_response["response"]["Attribute"][0]["type"]
        alert_output["misp"]["source"] = {}
        alert_output["misp"]["source"]["description"] = alert["rule"]["description"]
        send_event(alert_output, alert["agent"])
