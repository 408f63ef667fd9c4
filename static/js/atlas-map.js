/* Partnership Atlas: draws every [data-atlas-map] element with Leaflet.
   Data: the GeoJSON at data-src (points sized by count, lines between partners), over the
   vendored Natural Earth countries at data-basemap. No tile server unless data-tiles. */
(function () {
  "use strict";

  function labels() {
    var element = document.getElementById("explore-labels");
    return element ? JSON.parse(element.textContent) : {};
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key];
    });
  }

  function partnershipsText(words, count) {
    return count === 1 ? words.partnerships_one : format(words.partnerships_many, { count: count });
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  // A name that is not in the page's language: marked as the server marks it, with the
  // language for screen readers and a small "only in English" note.
  function named(words, href, text, language) {
    var fragment = document.createDocumentFragment();
    var a = link(href, text);
    fragment.appendChild(a);
    if (language && language !== document.documentElement.lang) {
      a.lang = language;
      var note = document.createElement("small");
      note.className = "lang-note";
      note.textContent = (words.only_in || {})[language] || "";
      fragment.appendChild(document.createTextNode(" "));
      fragment.appendChild(note);
    }
    return fragment;
  }

  function pointPopup(words, properties) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.appendChild(named(words, properties.url, properties.name, properties.name_language));
    box.appendChild(title);
    var line = document.createElement("p");
    line.textContent = partnershipsText(words, properties.count);
    box.appendChild(line);
    return box;
  }

  function linePopup(words, properties, placeUrl) {
    var box = document.createElement("div");
    var first = document.createElement("p");
    if (properties.partnership) {
      var strong = document.createElement("strong");
      var partnership = properties.partnership;
      strong.appendChild(named(words, partnership.url, partnership.title, partnership.title_language));
      first.appendChild(strong);
    } else {
      first.textContent = partnershipsText(words, properties.count);
    }
    box.appendChild(first);
    var between = document.createElement("p");
    var parts = format(words.between, { a: "\u0001", b: "\u0002" }).split(/(\u0001|\u0002)/);
    parts.forEach(function (part) {
      if (part === "\u0001") {
        var from = placeUrl.replace("{slug}", properties.from);
        between.appendChild(named(words, from, properties.from_name, properties.from_name_language));
      } else if (part === "\u0002") {
        var to = placeUrl.replace("{slug}", properties.to);
        between.appendChild(named(words, to, properties.to_name, properties.to_name_language));
      } else if (part) {
        between.appendChild(document.createTextNode(part));
      }
    });
    box.appendChild(between);
    return box;
  }

  // Natural Earth rings that cross the antimeridian jump from 180 to -180 and would be
  // drawn as a band across the world: carry on past 180 instead.
  function unwrap(ring) {
    var offset = 0;
    var previous = null;
    return ring.map(function (point) {
      var longitude = point[0] + offset;
      if (previous !== null && longitude - previous > 180) {
        offset -= 360;
        longitude -= 360;
      } else if (previous !== null && longitude - previous < -180) {
        offset += 360;
        longitude += 360;
      }
      previous = longitude;
      return [longitude, point[1]];
    });
  }

  function countries(world) {
    var collection = topojson.feature(world, world.objects.countries);
    collection.features = collection.features.filter(function (feature) {
      return feature.id !== "010"; // Antarctica: no partners there, and it wraps the pole
    });
    collection.features.forEach(function (feature) {
      var geometry = feature.geometry;
      if (geometry.type === "Polygon") {
        geometry.coordinates = geometry.coordinates.map(unwrap);
      } else if (geometry.type === "MultiPolygon") {
        geometry.coordinates = geometry.coordinates.map(function (polygon) {
          return polygon.map(unwrap);
        });
      }
    });
    return collection;
  }

  function radius(count, max) {
    // Area grows with the count; the largest place stays readable on a phone.
    return 4 + 14 * Math.sqrt(count / Math.max(max, 1));
  }

  function draw(element) {
    var words = labels();
    var map = L.map(element, {
      worldCopyJump: true,
      zoomSnap: 0.25,
      minZoom: 1,
      maxZoom: 12,
      zoomControl: false,
      attributionControl: true,
    });
    L.control.zoom({ zoomInTitle: words.zoom_in, zoomOutTitle: words.zoom_out }).addTo(map);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(words.basemap);
    map.setView([40, 60], 2);
    element.hidden = false;
    map.invalidateSize();

    var tiles = element.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { attribution: element.dataset.tileAttribution || "" }).addTo(map);
    }
    var basemap = fetch(element.dataset.basemap)
      .then(function (response) {
        return response.json();
      })
      .then(function (world) {
        if (!tiles) {
          L.geoJSON(countries(world), {
            interactive: false,
            style: { color: "#9aa6b2", weight: 0.6, fillColor: "#eef1ea", fillOpacity: 1 },
          }).addTo(map);
        }
      });
    var data = fetch(element.dataset.src, { headers: { Accept: "application/geo+json" } }).then(
      function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      }
    );
    Promise.all([data, basemap])
      .then(function (results) {
        var collection = results[0];
        var focus = element.dataset.focus;
        var points = collection.features.filter(function (f) {
          return f.geometry.type === "Point";
        });
        var lines = collection.features.filter(function (f) {
          return f.geometry.type === "LineString";
        });
        var maxCount = points.reduce(function (max, f) {
          return Math.max(max, f.properties.count);
        }, 1);
        var maxLine = lines.reduce(function (max, f) {
          return Math.max(max, f.properties.count);
        }, 1);
        var lineLayer = L.geoJSON(
          { type: "FeatureCollection", features: lines },
          {
            style: function (feature) {
              return {
                color: "#12355b",
                weight: 1.5 + 4 * Math.sqrt(feature.properties.count / maxLine),
                opacity: 0.45,
                className: "map-line",
              };
            },
            onEachFeature: function (feature, layer) {
              layer.bindPopup(linePopup(words, feature.properties, collection.meta.place_url));
            },
          }
        ).addTo(map);
        var pointLayer = L.geoJSON(
          { type: "FeatureCollection", features: points },
          {
            pointToLayer: function (feature, latlng) {
              var focused = focus && feature.properties.slug === focus;
              return L.circleMarker(latlng, {
                radius: radius(feature.properties.count, maxCount),
                color: focused ? "#1b1f24" : "#ffffff",
                weight: focused ? 3 : 1,
                fillColor: focused ? "#c0392b" : "#0b4f8a",
                fillOpacity: 0.8,
                className: "map-point",
              });
            },
            onEachFeature: function (feature, layer) {
              layer.bindPopup(pointPopup(words, feature.properties));
              layer.bindTooltip(feature.properties.name);
            },
          }
        ).addTo(map);
        var bounds = pointLayer.getBounds();
        if (bounds.isValid()) {
          map.fitBounds(bounds.pad(0.15), { maxZoom: 7 });
        }
        element.dataset.points = String(points.length);
        element.dataset.lines = String(lines.length);
        element.atlasMap = map;
        element.setAttribute("data-ready", "true");
        return lineLayer;
      })
      .catch(function () {
        var message = document.createElement("p");
        message.className = "map-error";
        message.textContent = words.failed;
        element.replaceWith(message);
      });
  }

  document.querySelectorAll("[data-atlas-map]").forEach(draw);
})();
