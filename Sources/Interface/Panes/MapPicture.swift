import Visualization

/// Where a pane drew a layer's map (the input and unit panes): a click on the picture is a
/// position of the map.
public struct MapPicture: Sendable, Equatable {
    public var picture: Rect = .zero
    /// The map's size (0 when the layer has no map, e.g. a fully connected one).
    public var mapHeight = 0
    public var mapWidth = 0

    public init(picture: Rect = .zero, mapHeight: Int = 0, mapWidth: Int = 0) {
        self.picture = picture; self.mapHeight = mapHeight; self.mapWidth = mapWidth
    }

    /// The map position under (x, y), if the point is on the picture.
    public func position(x: Int, y: Int) -> (y: Int, x: Int)? {
        guard picture.contains(x: x, y: y), mapHeight > 0, mapWidth > 0 else { return nil }
        return (min(mapHeight - 1, (y - picture.y) * mapHeight / picture.height),
                min(mapWidth - 1, (x - picture.x) * mapWidth / picture.width))
    }
}
