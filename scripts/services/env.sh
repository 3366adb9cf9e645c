# Sourced by scripts/test.sh after the services start: where tests find them.
export MAPSEARCH_TEST_REDIS_URL=redis://127.0.0.1:6379/0
export MAPSEARCH_TEST_ES_URL=http://127.0.0.1:9200
export MAPSEARCH_TEST_ES_CLUSTER_PORTS=9211,9212,9213
